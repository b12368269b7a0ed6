"""CUT building blocks of CONFETI (spec §2.9): generator layer table and encode indices, PatchGAN,
blur layers, PatchNCE (Eq. 10) by hand, LSGAN by hand, the mmseg ↔ CUT range, init and bad input."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

import mmseg_uda.models.style  # noqa: F401  (registers the modules)
from mmseg_uda.models.style import (IMAGENET_MEAN, IMAGENET_STD, BlurPool2d,
                                             BlurUpsample2d, PatchDiscriminator, PatchNCELoss,
                                             PatchSampleMLP, ResnetGenerator, from_cut_range,
                                             lsgan_d_loss, lsgan_g_loss, patch_nce_loss,
                                             to_cut_range)
from mmseg_uda.models.style.resnet_generator import ResnetBlock

NCE_LAYERS = (0, 4, 8, 12, 16)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope='module')
def generator():
    torch.manual_seed(0)
    return ResnetGenerator()


# -- generator -------------------------------------------------------------------------------------
def test_generator_keeps_the_shape_and_the_tanh_range(generator):
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    y = generator(x)
    assert y.shape == x.shape and y.abs().max() <= 1
    assert generator(torch.rand(2, 3, 16, 24) * 2 - 1).shape == (2, 3, 16, 24)


def test_generator_sequential_matches_the_spec_table(generator):
    m = generator.model
    assert len(m) == 32
    assert isinstance(m[0], nn.ReflectionPad2d) and m[0].padding == (3, 3, 3, 3)
    assert (m[1].in_channels, m[1].out_channels, m[1].kernel_size) == (3, 64, (7, 7))
    for conv_idx, cin, cout in ((4, 64, 128), (8, 128, 256)):  # stride-1 convs, then BlurPool
        conv = m[conv_idx]
        assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride) == \
            (cin, cout, (3, 3), (1, 1))
        assert isinstance(m[conv_idx + 1], nn.InstanceNorm2d)
        assert isinstance(m[conv_idx + 2], nn.ReLU) and isinstance(m[conv_idx + 3], BlurPool2d)
    assert all(isinstance(m[i], ResnetBlock) for i in range(12, 21))
    for up_idx, cin, cout in ((21, 256, 128), (25, 128, 64)):
        assert isinstance(m[up_idx], BlurUpsample2d)
        assert (m[up_idx + 1].in_channels, m[up_idx + 1].out_channels) == (cin, cout)
    assert isinstance(m[29], nn.ReflectionPad2d) and m[30].out_channels == 3
    assert isinstance(m[31], nn.Tanh)
    norms = [n for n in generator.modules() if isinstance(n, nn.InstanceNorm2d)]
    assert norms and all(not n.affine and not n.track_running_stats for n in norms)
    convs = [c for c in generator.modules() if isinstance(c, nn.Conv2d)]
    assert all(c.bias is not None for c in convs)


def test_encode_returns_the_outputs_of_layers_0_4_8_12_16(generator):
    """Feature l = model[0..l] applied in order: the padded input, the two stride-1 convs before
    their IN, the 1st and 5th residual blocks."""
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        feats = generator.encode(x, NCE_LAYERS)
        assert [f.shape[1] for f in feats] == [3, 128, 256, 256, 256]
        assert [generator.layer_channels[i] for i in NCE_LAYERS] == [3, 128, 256, 256, 256]
        assert [tuple(f.shape[-2:]) for f in feats] == [(38, 38), (32, 32), (16, 16), (8, 8),
                                                        (8, 8)]
        for layer, feat in zip(NCE_LAYERS, feats):
            torch.testing.assert_close(feat, generator.model[:layer + 1](x))
        torch.testing.assert_close(feats[0], F.pad(x, (3, 3, 3, 3), mode='reflect'))
        # order of the request is kept
        swapped = generator.encode(x, (8, 0))
        torch.testing.assert_close(swapped[0], feats[2])


# -- discriminator ---------------------------------------------------------------------------------
def test_discriminator_is_the_antialiased_basic_patchgan():
    d = PatchDiscriminator()
    kinds = [type(m).__name__ for m in d.model]
    assert kinds == ['Conv2d', 'LeakyReLU', 'BlurPool2d',
                     'Conv2d', 'InstanceNorm2d', 'LeakyReLU', 'BlurPool2d',
                     'Conv2d', 'InstanceNorm2d', 'LeakyReLU', 'BlurPool2d',
                     'Conv2d', 'InstanceNorm2d', 'LeakyReLU', 'Conv2d']
    convs = [m for m in d.model if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == \
        [(3, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    assert all(c.kernel_size == (4, 4) and c.stride == (1, 1) and c.padding == (1, 1)
               for c in convs)
    assert d.model[1].negative_slope == 0.2
    with torch.no_grad():
        assert d(torch.rand(2, 3, 64, 64) * 2 - 1).shape == (2, 1, 6, 6)


# -- blur layers -----------------------------------------------------------------------------------
def test_blurpool_is_the_121_filter_then_stride_2_on_a_hand_tensor():
    """x[i, j] = 4i + j (4×4). Reflection-padded [1,2,1]⊗[1,2,1]/16 at the even centres: the
    weighted mean of the ramp, e.g. centre (0, 0) sees rows/cols (1, 0, 1) → 4·½ + ½ = 2.5."""
    pool = BlurPool2d(2)
    torch.testing.assert_close(pool.filt[0, 0], torch.tensor([[1., 2., 1.], [2., 4., 2.],
                                                              [1., 2., 1.]]) / 16)
    ramp = torch.arange(16.).reshape(4, 4)
    x = torch.stack([ramp, -2 * ramp])[None]  # two channels: depthwise, no mixing
    out = pool(x)
    expected = torch.tensor([[2.5, 4.], [8.5, 10.]])
    torch.testing.assert_close(out, torch.stack([expected, -2 * expected])[None])
    assert pool(torch.zeros(1, 2, 7, 5)).shape == (1, 2, 4, 3)  # ⌈H/2⌉ × ⌈W/2⌉


def test_blur_upsample_is_the_transposed_1331_filter():
    """Taps [¼, ¾, ¾, ¼] per axis (stride² · [1,3,3,1]⊗[1,3,3,1]/64): ×2 bilinear, align_corners
    False, edges clamped."""
    up = BlurUpsample2d(2)
    t = torch.tensor([1., 3., 3., 1.])
    torch.testing.assert_close(up.filt[1, 0], 4 * torch.outer(t, t) / 64)
    row = up(torch.tensor([[2., 6.]]).reshape(1, 1, 1, 2).repeat(1, 2, 1, 1))[0, 0, 0]
    torch.testing.assert_close(row, torch.tensor([2., 3., 5., 6.]))  # [a, ¾a+¼b, ¼a+¾b, b]
    x = torch.randn(1, 2, 5, 7)
    torch.testing.assert_close(up(x), F.interpolate(x, scale_factor=2, mode='bilinear',
                                                    align_corners=False))


# -- patch sampling --------------------------------------------------------------------------------
def features(b=2, sizes=(10, 8, 4, 2, 2), channels=(3, 128, 256, 256, 256), seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, c, s, s, generator=g) for c, s in zip(channels, sizes)]


def test_patch_sample_mlp_is_built_eagerly_and_projects_to_unit_vectors():
    mlp = PatchSampleMLP()
    assert len(mlp.mlps) == 5
    for head, c in zip(mlp.mlps, (3, 128, 256, 256, 256)):
        assert [type(m).__name__ for m in head] == ['Linear', 'ReLU', 'Linear']
        assert (head[0].in_features, head[0].out_features, head[2].out_features) == (c, 256, 256)
    assert sum(p.numel() for p in mlp.parameters()) > 0  # an optimiser sees them before forward
    torch.manual_seed(0)
    out, ids = mlp(features(), num_patches=16)
    # P = min(16, H·W): layers of 2×2 give all 4 locations
    assert [tuple(o.shape) for o in out] == [(2, 16, 256), (2, 16, 256), (2, 16, 256),
                                             (2, 4, 256), (2, 4, 256)]
    assert all(torch.allclose(o.norm(dim=-1), torch.ones(())) for o in out)
    assert all(len(set(i.tolist())) == len(i) for i in ids)  # without replacement


def test_queries_reuse_the_keys_locations_shared_by_the_batch():
    mlp = PatchSampleMLP()
    keys_feats, query_feats = features(seed=0), features(seed=1)
    torch.manual_seed(0)
    keys, ids = mlp(keys_feats, num_patches=8)
    queries, q_ids = mlp(query_feats, num_patches=8, patch_ids=ids)
    assert all(torch.equal(a, b) for a, b in zip(ids, q_ids))
    for layer, (feat, head) in enumerate(zip(query_feats, mlp.mlps)):
        # row p of every image is location ids[p] of that image, projected and normalised
        grid = feat.flatten(2).transpose(1, 2)  # (B, HW, C)
        expected = F.normalize(head(grid[:, ids[layer]]), dim=-1)
        torch.testing.assert_close(queries[layer], expected)
    same = [f[:1].expand(2, -1, -1, -1) for f in keys_feats]  # two identical images
    out, _ = mlp(same, num_patches=8)
    assert all(torch.equal(o[0], o[1]) for o in out)


# -- PatchNCE --------------------------------------------------------------------------------------
def test_patch_nce_by_hand_value_and_gradient_keys_get_none():
    """B = 1, P = 2, τ = 0.5. ℓ_i over [ẑ_i·z_i, −10 (the diagonal), ẑ_i·z_j]/τ;
    dℓ_i/dẑ_i = (p⁺ z_i + p⁻ z_j − z_i)/τ, the −10 entry being constant."""
    tau = 0.5
    q = torch.tensor([[[1., 0.], [0.6, 0.8]]], requires_grad=True)
    k = torch.tensor([[[0.8, 0.6], [0., 1.]]], requires_grad=True)
    loss = patch_nce_loss(q, k, tau=tau)
    qv, kv = q.detach()[0], k.detach()[0]
    total, grads = 0., []
    for i, j in ((0, 1), (1, 0)):
        pos = math.exp(float(qv[i] @ kv[i]) / tau)
        neg = math.exp(float(qv[i] @ kv[j]) / tau)
        diag = math.exp(-10 / tau)
        z = pos + neg + diag
        total += -math.log(pos / z)
        grads.append(((pos / z) * kv[i] + (neg / z) * kv[j] - kv[i]) / tau / 2)  # /2: the mean
    assert loss.item() == pytest.approx(total / 2, rel=1e-6)
    loss.backward()
    torch.testing.assert_close(q.grad[0], torch.stack(grads))
    assert k.grad is None  # keys are detached


def test_the_diagonal_is_minus_ten_before_tau_not_removed():
    """τ = 1 makes e^{−10} visible next to small similarities."""
    q = torch.tensor([[[1., 0.], [0., 1.]]])
    k = torch.tensor([[[-1., 0.], [-1., 0.]]])  # ẑ_0·z_0 = −1, ẑ_0·z_1 = −1
    per_patch = patch_nce_loss(q, k, tau=1.0, reduction='none')
    assert per_patch.shape == (1, 2)
    with_diag = -math.log(math.exp(-1) / (2 * math.exp(-1) + math.exp(-10)))
    without = math.log(2)
    assert per_patch[0, 0].item() == pytest.approx(with_diag, abs=1e-6)
    assert abs(with_diag - without) > 5e-5


def naive_patch_nce(q, k, tau):
    """Per-patch PatchNCE with explicit loops (float64): negatives = other locations, same image."""
    b, p, _ = q.shape
    out = torch.zeros(b, p, dtype=torch.float64)
    for n in range(b):
        for i in range(p):
            terms = [q[n, i] @ k[n, i]] + [q[n, i] @ k[n, j] if j != i else torch.tensor(-10.)
                                           for j in range(p)]
            logits = torch.stack([t.double() for t in terms]) / tau
            out[n, i] = logits.logsumexp(0) - logits[0]
    return out


def test_patch_nce_matches_loops_and_negatives_stay_in_the_image():
    g = torch.Generator().manual_seed(0)
    q = F.normalize(torch.randn(2, 5, 4, generator=g), dim=-1)
    k = F.normalize(torch.randn(2, 5, 4, generator=g), dim=-1)
    per_patch = patch_nce_loss(q, k, reduction='none')
    torch.testing.assert_close(per_patch.double(), naive_patch_nce(q, k, 0.07), rtol=1e-5,
                               atol=1e-5)
    # CUT's flat (B·P, D) layout with batch_size gives the same numbers
    flat = patch_nce_loss(q.reshape(10, 4), k.reshape(10, 4), batch_size=2, reduction='none')
    torch.testing.assert_close(flat, per_patch.reshape(10))
    k2 = k.clone()
    k2[1] = F.normalize(torch.randn(5, 4, generator=g), dim=-1)  # other image's keys change
    torch.testing.assert_close(patch_nce_loss(q, k2, reduction='none')[0], per_patch[0])
    assert patch_nce_loss(q, k).item() == pytest.approx(per_patch.mean().item(), rel=1e-6)


def test_patch_nce_loss_module_means_over_patches_then_layers():
    g = torch.Generator().manual_seed(1)
    qs = [F.normalize(torch.randn(2, p, 8, generator=g), dim=-1) for p in (6, 3)]
    ks = [F.normalize(torch.randn(2, p, 8, generator=g), dim=-1) for p in (6, 3)]
    layer_means = [patch_nce_loss(q, k).item() for q, k in zip(qs, ks)]
    assert PatchNCELoss()(qs, ks).item() == pytest.approx(sum(layer_means) / 2, rel=1e-6)
    assert PatchNCELoss(layer_reduction='sum', loss_weight=2.)(qs, ks).item() == \
        pytest.approx(2 * sum(layer_means), rel=1e-6)
    assert isinstance(MODELS.build(dict(type='PatchNCELoss')), PatchNCELoss)


def test_nce_gradients_reach_the_generator_and_mlp_through_the_queries_only():
    torch.manual_seed(0)
    gen = ResnetGenerator(ngf=8, num_blocks=6)
    mlp = PatchSampleMLP(in_channels=[gen.layer_channels[i] for i in NCE_LAYERS], mlp_dim=16)
    src = (torch.rand(2, 3, 16, 16) * 2 - 1).requires_grad_()
    fake = gen(src).detach().requires_grad_()  # stands for 𝒢(src)
    keys, ids = mlp(gen.encode(src, NCE_LAYERS), num_patches=32)
    queries, _ = mlp(gen.encode(fake, NCE_LAYERS), num_patches=32, patch_ids=ids)
    PatchNCELoss()(queries, keys).backward()
    assert src.grad is None  # keys are detached
    assert fake.grad is not None and fake.grad.abs().sum() > 0
    assert all(p.grad is not None for p in mlp.parameters())
    assert gen.model[1].weight.grad.abs().sum() > 0


# -- LSGAN -----------------------------------------------------------------------------------------
def test_lsgan_losses_by_hand():
    real = torch.tensor([[0.5, 1.5]])
    fake = torch.tensor([[0.2, -0.4]])
    # ½·[((0.2)² + (0.4)²)/2 + ((0.5)² + (0.5)²)/2] = ½·(0.1 + 0.25)
    assert lsgan_d_loss(real, fake).item() == pytest.approx(0.175, rel=1e-6)
    # ((0.8)² + (1.4)²)/2
    assert lsgan_g_loss(fake).item() == pytest.approx(1.3, rel=1e-6)


# -- range -----------------------------------------------------------------------------------------
def test_range_conversion_anchors_and_round_trip():
    mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    pixels = torch.tensor([0., 127.5, 255.])[None, None, :].repeat(1, 3, 1)[..., None]  # 1×3×3×1
    normalised = (pixels - mean[None, :, None, None]) / std[None, :, None, None]
    cut = to_cut_range(normalised)
    torch.testing.assert_close(cut[0, :, :, 0], torch.tensor([-1., 0., 1.]).repeat(3, 1))
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(from_cut_range(to_cut_range(x)), x)
    # the data preprocessor's (C, 1, 1) buffers work too
    torch.testing.assert_close(to_cut_range(x, mean[:, None, None], std[:, None, None]),
                               to_cut_range(x))


# -- AMP -------------------------------------------------------------------------------------------
def test_bf16_autocast_gives_float32_losses():
    g = torch.Generator().manual_seed(0)
    q = F.normalize(torch.randn(2, 6, 8, generator=g), dim=-1)
    k = F.normalize(torch.randn(2, 6, 8, generator=g), dim=-1)
    ref = patch_nce_loss(q, k)
    qb = q.bfloat16().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        nce = patch_nce_loss(qb, k.bfloat16())
        layers = PatchNCELoss()([qb], [k.bfloat16()])
        d = lsgan_d_loss(torch.randn(1, 1, 2, 2).bfloat16(), torch.randn(1, 1, 2, 2).bfloat16())
        gl = lsgan_g_loss(torch.randn(1, 1, 2, 2).bfloat16())
    assert all(t.dtype == torch.float32 for t in (nce, layers, d, gl))
    nce.backward()
    assert torch.isfinite(qb.grad.float()).all()
    assert nce.item() == pytest.approx(ref.item(), rel=2e-2)


# -- init ------------------------------------------------------------------------------------------
def test_xavier_normal_gain_002_and_zero_bias(generator):
    def check(weight, fan_in, fan_out):
        expected = 0.02 * math.sqrt(2 / (fan_in + fan_out))
        assert weight.std().item() == pytest.approx(expected, rel=0.03)

    conv = generator.model[12].conv_block[1]  # 256→256 3×3: 589,824 samples
    check(conv.weight, 256 * 9, 256 * 9)
    assert all(torch.count_nonzero(m.bias) == 0 for m in generator.modules()
               if isinstance(m, nn.Conv2d))
    d = PatchDiscriminator()
    check(d.model[11].weight, 256 * 16, 512 * 16)
    mlp = PatchSampleMLP()
    check(mlp.mlp_4[2].weight, 256, 256)
    assert torch.count_nonzero(mlp.mlp_4[0].bias) == 0


def test_an_enclosing_init_weights_keeps_loaded_weights_but_a_direct_call_reinits():
    gen = ResnetGenerator(ngf=4, num_blocks=5)
    assert gen.is_init

    class Wrapper(BaseModule):
        def __init__(self):
            super().__init__()
            self.netG = gen

    wrapper = Wrapper()
    with torch.no_grad():
        gen.model[1].weight.fill_(0.5)  # e.g. a loaded Stage-0 checkpoint
    wrapper.init_weights()
    assert torch.all(gen.model[1].weight == 0.5)
    gen.init_weights()
    assert gen.model[1].weight.abs().max() < 0.5


def test_state_dict_names_follow_cut():
    gen_keys = ResnetGenerator(ngf=4, num_blocks=5).state_dict().keys()
    assert {'model.1.weight', 'model.12.conv_block.1.weight', 'model.12.conv_block.5.bias',
            'model.7.filt', 'model.11.filt', 'model.17.filt', 'model.21.filt',
            'model.26.weight'} <= set(gen_keys)
    assert 'model.14.weight' in PatchDiscriminator(ndf=4).state_dict()
    assert {'mlp_0.0.weight', 'mlp_4.2.bias'} <= set(PatchSampleMLP().state_dict())


def test_registry_builds_the_networks():
    assert MODELS.build(dict(type='ResnetGenerator', num_blocks=6)).num_blocks == 6
    assert isinstance(MODELS.build(dict(type='PatchDiscriminator', ndf=8)), PatchDiscriminator)
    assert isinstance(MODELS.build(dict(type='PatchSampleMLP', mlp_dim=8)), PatchSampleMLP)


# -- bad input -------------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_value_errors(generator):
    q = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match='num_patches'):
        PatchSampleMLP()(features(), num_patches=0)
    with pytest.raises(ValueError, match='num_patches'):
        PatchSampleMLP()(features(), num_patches=-3)
    with pytest.raises(ValueError, match='5 feature maps'):
        PatchSampleMLP()(features()[:4])
    with pytest.raises(ValueError, match=r'feats\[1\]'):
        PatchSampleMLP()(features(channels=(3, 64, 256, 256, 256)))
    with pytest.raises(ValueError, match='same'):
        patch_nce_loss(q, torch.randn(1, 4, 8))  # mismatched batch sizes
    with pytest.raises(ValueError, match='batch_size'):
        patch_nce_loss(q, q, batch_size=3)
    with pytest.raises(ValueError, match='batch_size'):
        patch_nce_loss(q.reshape(8, 8), q.reshape(8, 8))  # flat input needs B
    with pytest.raises(ValueError, match='batch_size'):
        patch_nce_loss(q.reshape(8, 8), q.reshape(8, 8), batch_size=3)
    with pytest.raises(ValueError, match='tau'):
        patch_nce_loss(q, q, tau=0)
    with pytest.raises(ValueError, match='layer_reduction'):
        PatchNCELoss(layer_reduction='max')
    with pytest.raises(ValueError, match='same length'):
        PatchNCELoss()([q, q], [q])
    with pytest.raises(ValueError, match='num_blocks'):
        ResnetGenerator(num_blocks=0)
    with pytest.raises(ValueError, match='multiples of 4'):
        generator(torch.zeros(1, 3, 30, 32))
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'):
        generator(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match='layers'):
        generator.encode(torch.zeros(1, 3, 32, 32), layers=(0, 32))
    with pytest.raises(ValueError, match='mean'):
        to_cut_range(torch.zeros(1, 4, 2, 2))


def test_patch_similarities_are_float32_under_autocast():
    """PatchNCE's ẑ_i·z_j logits (one layer, and the layer mean) under bf16 autocast equal the
    float32 losses and gradients to 1e-6, for float32 and bf16 patches."""
    from test_contrastive_losses import amp_equals_float32
    g = torch.Generator().manual_seed(0)
    q, k, q2, k2 = (F.normalize(torch.randn(2, n, 8, generator=g), dim=-1) for n in (16, 16, 5, 5))
    amp_equals_float32(lambda q, k: patch_nce_loss(q, k), q, k)
    amp_equals_float32(lambda q, k, q2, k2: PatchNCELoss(layer_reduction='sum')([q, q2], [k, k2]),
                       q, k, q2, k2)
