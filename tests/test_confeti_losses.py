"""CONFETI's loss-level blocks: CAM head (L_CAM), momentum prototypes (Eq. 6-7), L_PCL (Eq. 8-9),
L_Reg (Supp. A3), L_SC (Eq. 11) and φ; values and gradients by hand, routing, edge cases, DDP."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from conftest import REPO
from mmseg_uda.models.decode_heads import CAMHead
from mmseg_uda.models.losses import (AffineProjection, diversity_regularizer,
                                     pixel_prototype_contrast, semantic_consistency_loss)
from mmseg_uda.models.utils.prototypes import MomentumPrototypes
from mmseg_uda.models.utils.sampling import labels_to_grid
from test_ddp_exactness import run_torchrun


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def softplus(x):
    return math.log1p(math.exp(x))


def close(actual, expected):
    torch.testing.assert_close(actual, torch.as_tensor(expected, dtype=actual.dtype),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- CAM head and L_CAM (§2.4)

def test_cam_head_structure_init_and_cams():
    head = MODELS.build(dict(type='CAMHead', in_channels=256, num_classes=19))
    assert head.conv.bias is None and head.conv.weight.shape == (19, 256, 1, 1)
    assert abs(head.conv.weight.std().item() - 0.01) < 0.001  # Normal(0, 0.01), 4864 draws
    feats = [torch.randn(2, 8, 3, 3), torch.randn(2, 256, 4, 5)]
    logits = head(feats)  # in_index -1: the last map
    assert logits.shape == (2, 19, 4, 5)
    torch.testing.assert_close(logits, F.conv2d(feats[-1], head.conv.weight))
    torch.testing.assert_close(head.cams(feats), logits.clamp(min=0))  # Eq. (5)


def test_cam_loss_value_and_gradient_by_hand():
    head = CAMHead(in_channels=2, num_classes=2)
    with torch.no_grad():
        head.conv.weight.copy_(torch.tensor([[1., 0.], [0., -1.]])[:, :, None, None])
    feats = torch.tensor([[[[1., 3.]], [[2., 0.]]]])  # (1, 2, 1, 2): f_0 = [1, 3], f_1 = [2, 0]
    labels = torch.tensor([[[0, 255], [0, 0]]])  # class 0 present, class 1 absent, any resolution
    loss = head.loss(feats, labels)
    # s_0 = mean(1, 3) = 2, s_1 = mean(-2, 0) = -1; y = (1, 0); BCE mean over K (A2)
    close(loss, (softplus(-2.) + softplus(-1.)) / 2)
    loss.backward()
    # dL/ds_c = (σ(s_c) − y_c)/K, ds_c/dw_c = mean_j f_j = (2, 1)
    grad = torch.tensor([[(sigmoid(2.) - 1) / 2], [sigmoid(-1.) / 2]]) * torch.tensor([[2., 1.]])
    close(head.conv.weight.grad[:, :, 0, 0], grad)


def test_cam_loss_batch_mean_and_all_ignore():
    head = CAMHead(in_channels=3, num_classes=4)
    feats = torch.randn(2, 3, 2, 2)
    labels = torch.full((2, 1, 5, 5), 255)  # (B, 1, H, W) accepted; all ignore: every y_c = 0
    labels[0, 0, 0, 0] = 3
    scores = head(feats).mean((2, 3))
    targets = torch.zeros(2, 4)
    targets[0, 3] = 1
    close(head.loss(feats, labels), F.binary_cross_entropy_with_logits(scores, targets))
    with pytest.raises(ValueError, match='labels'):
        head.loss(feats, torch.full((2, 5, 5), 4))  # 4 is neither a class nor ignore
    with pytest.raises(ValueError, match='labels'):
        head.loss(feats, labels[:1])


# ---------------------------------------------------------------- L_PCL (§2.7)

def pcl_grad_by_hand(u, label, protos, tau, scale):
    """dL/du of scale · CE(norm(u)·Pᵀ/τ, label), in plain Python."""
    r = math.sqrt(sum(x * x for x in u))
    n = [x / r for x in u]
    z = [sum(a * b for a, b in zip(n, p)) / tau for p in protos]
    e = [math.exp(x) for x in z]
    s = [x / sum(e) for x in e]
    dz = [scale * (s[k] - (k == label)) for k in range(len(protos))]
    dn = [sum(dz[k] * protos[k][d] / tau for k in range(len(protos))) for d in range(len(u))]
    dot = sum(a * b for a, b in zip(n, dn))
    return [(dn[d] - dot * n[d]) / r for d in range(len(u))]


def test_pcl_value_and_gradient_by_hand():
    protos = torch.tensor([[1., 0.], [0., 1.]], requires_grad=True)
    feats = torch.tensor([[3., 4.], [1., 0.], [5., 5.]], requires_grad=True)
    labels = torch.tensor([0, 255, 1])
    loss = pixel_prototype_contrast(feats, labels, protos, tau=0.5)
    # pixel 0: n = (0.6, 0.8), logits (1.2, 1.6), class 0; pixel 2: equal logits, ln 2
    close(loss, ((math.log(math.exp(1.2) + math.exp(1.6)) - 1.2) + math.log(2)) / 2)
    loss.backward()
    P = [[1., 0.], [0., 1.]]
    close(feats.grad[0], pcl_grad_by_hand([3., 4.], 0, P, 0.5, 0.5))
    close(feats.grad[1], [0., 0.])  # ignored
    close(feats.grad[2], pcl_grad_by_hand([5., 5.], 1, P, 0.5, 0.5))
    assert protos.grad is None  # prototypes are detached


def test_pcl_zero_prototype_gives_logit_zero_and_single_class():
    protos = torch.tensor([[0.6, 0.8], [0., 0.]])  # class 1 never seen
    feats = torch.tensor([[3., 4.], [3., 4.]])
    close(pixel_prototype_contrast(feats[:1], torch.tensor([0]), protos), softplus(-10.))
    close(pixel_prototype_contrast(feats[:1], torch.tensor([1]), protos), softplus(10.))
    # one class present (K = 1 too): the softmax over one prototype, loss 0
    close(pixel_prototype_contrast(feats, torch.tensor([0, 0]), protos[:1]), 0.)


def test_pcl_all_ignore_is_zero_and_connected():
    feats = torch.randn(2, 4, 3, 3, requires_grad=True)
    loss = pixel_prototype_contrast(feats, torch.full((2, 12, 12), 255), torch.eye(5, 4))
    assert loss.item() == 0 and loss.requires_grad
    loss.backward()
    assert torch.count_nonzero(feats.grad) == 0


def test_pcl_samples_valid_positions_without_replacement():
    protos = F.normalize(torch.randn(3, 4), dim=1)
    labels = torch.tensor([0, 255, 1, 2, 255, 1])
    feats = torch.randn(6, 4)
    per_pixel = [pixel_prototype_contrast(feats[i:i + 1], labels[i:i + 1], protos).item()
                 for i in (0, 2, 3, 5)]
    hit = set()
    torch.manual_seed(0)
    for _ in range(40):
        f = feats.clone().requires_grad_()
        loss = pixel_prototype_contrast(f, labels, protos, num_samples=1)
        loss.backward()
        used = f.grad.abs().sum(1).nonzero().squeeze(1).tolist()
        assert len(used) == 1 and labels[used[0]] != 255
        assert min(abs(loss.item() - v) for v in per_pixel) < 1e-5
        hit.add(used[0])
    assert hit == {0, 2, 3, 5}  # uniform over the valid ones
    f = feats.clone().requires_grad_()
    pixel_prototype_contrast(f, labels, protos, num_samples=2).backward()
    assert f.grad.abs().sum(1).gt(0).sum() == 2  # two distinct positions
    full = pixel_prototype_contrast(feats, labels, protos, num_samples=100)  # all if fewer
    close(full, sum(per_pixel) / 4)


def test_pcl_maps_use_nearest_labels_on_the_feature_grid():
    protos = F.normalize(torch.randn(3, 5), dim=1)
    feats = torch.randn(2, 5, 3, 4, requires_grad=True)
    labels = torch.randint(0, 4, (2, 24, 32))  # 3 = ignore for K = 3
    loss = pixel_prototype_contrast(feats, labels, protos, num_samples=10**6)
    grid = labels_to_grid(labels, (3, 4), 'nearest').flatten()
    rows = feats.permute(0, 2, 3, 1).reshape(-1, 5)
    expected = F.cross_entropy(F.normalize(rows, dim=1) @ protos.t() / 0.1, grid,
                               ignore_index=3)
    close(loss, expected.item())
    g_loss, = torch.autograd.grad(loss, feats)
    g_exp, = torch.autograd.grad(expected, feats)
    torch.testing.assert_close(g_loss, g_exp)


# ---------------------------------------------------------------- L_Reg (§2.8)

def test_reg_value_and_gradient_by_hand():
    P = torch.tensor([[1., 0.], [0., 1.]], requires_grad=True)
    mean = torch.tensor([0.3, 0.1], requires_grad=True)  # v̄ given directly
    loss = diversity_regularizer(mean, P, tau=0.1)
    lse = math.log(math.exp(3.) + math.exp(1.))
    close(loss, ((3 - lse) + (1 - lse)) / (2 * math.log(2)))
    loss.backward()
    q = [math.exp(3 - lse), math.exp(1 - lse)]  # d Σ_c log q_c / dz_k = 1 − K q_k
    close(mean.grad, [(1 - 2 * qk) / 0.1 / (2 * math.log(2)) for qk in q])
    assert P.grad is None
    close(diversity_regularizer(mean, P, tau=0.1, sign=-1), -loss.item())


def test_reg_mean_of_valid_normalised_features_and_uniform_value():
    P = torch.tensor([[1., 0.], [0., 1.]])
    rows = torch.tensor([[3., 4.], [2., 0.], [9., 9.]])
    expected = diversity_regularizer(torch.tensor([0.8, 0.4]), P)  # mean of (.6,.8), (1,0)
    close(diversity_regularizer(rows, P, labels=torch.tensor([0, 1, 255])), expected.item())
    maps = rows.t()[None, :, None, :]  # (1, 2, 1, 3) with (1, 1, 3) labels
    close(diversity_regularizer(maps, P, labels=torch.tensor([[[0, 1, 255]]])), expected.item())
    # v̄ orthogonal to every prototype (here: 19 never-seen zero prototypes): q uniform,
    # Σ log q = −K ln K, so L_Reg = −sign (λ_Reg = 2 gives the spec's −2); norm 19 ln 19
    zeros = torch.zeros(19, 2)
    close(diversity_regularizer(rows, zeros), -1.)
    close(diversity_regularizer(rows, zeros, sign=-1), 1.)
    close(diversity_regularizer(rows, zeros, norm=55.94434060416236), -1.)
    # no valid pixel, or K = 1: 0, connected
    f = rows.clone().requires_grad_()
    loss = diversity_regularizer(f, P, labels=torch.full((3, ), 255))
    assert loss.item() == 0 and loss.requires_grad
    assert diversity_regularizer(f, P[:1]).item() == 0


# ---------------------------------------------------------------- L_SC and φ (§2.10)

def test_sc_value_and_gradient_by_hand():
    P = torch.tensor([[1., 0.], [0.6, 0.8]], requires_grad=True)
    v = torch.tensor([[1., 2.]], requires_grad=True)
    v_hat = torch.tensor([[3., 1.]], requires_grad=True)
    loss = semantic_consistency_loss(v, v_hat, P)
    # s = (1, 2.2), ŝ = (3, 2.6): ((3 − 1)² + (2.6 − 2.2)²) / 2
    close(loss, 2.08)
    loss.backward()
    close(v_hat.grad, [[2.24, 0.32]])  # Pᵀ · 2(ŝ − s)/2
    assert v.grad is None and P.grad is None  # the source side and the prototypes are detached


def test_sc_reaches_only_the_generator_and_phi():
    torch.manual_seed(0)
    generator = torch.nn.Conv2d(3, 3, 1)
    backbone = torch.nn.Conv2d(3, 4, 1)  # stands for f_b and g, frozen by the caller (§6.2)
    phi = AffineProjection(4)
    protos = torch.nn.Parameter(F.normalize(torch.randn(5, 4), dim=1))
    x = torch.randn(2, 3, 4, 4)
    backbone.requires_grad_(False)
    source = backbone(x)
    stylised = phi(backbone(generator(x)))
    semantic_consistency_loss(source, stylised, protos).backward()
    backbone.requires_grad_(True)
    assert generator.weight.grad is not None and generator.weight.grad.abs().sum() > 0
    assert phi.conv.weight.grad is not None and phi.conv.bias.grad is not None
    assert backbone.weight.grad is None and protos.grad is None
    # an unfrozen source branch gets no gradient either: it is detached inside
    source = backbone(x)
    semantic_consistency_loss(source, phi(source.detach()), protos).backward()
    assert backbone.weight.grad is None


def test_sc_maps_equal_rows():
    P = F.normalize(torch.randn(3, 4), dim=1)
    a, b = torch.randn(2, 4, 2, 3), torch.randn(2, 4, 2, 3)
    rows = [t.permute(0, 2, 3, 1).reshape(-1, 4) for t in (a, b)]
    close(semantic_consistency_loss(a, b, P), semantic_consistency_loss(*rows, P).item())


def test_affine_projection_modes():
    phi = MODELS.build(dict(type='AffineProjection', channels=4))
    assert phi.conv.bias is not None and phi.conv.weight.shape == (4, 4, 1, 1)
    x = torch.randn(2, 4, 3, 3)
    rows = x.permute(0, 2, 3, 1).reshape(-1, 4)
    torch.testing.assert_close(phi(rows), phi(x).permute(0, 2, 3, 1).reshape(-1, 4))
    chan = AffineProjection(4, mode='channel')
    torch.testing.assert_close(chan(x), x)  # identity init
    with torch.no_grad():
        chan.scale.copy_(torch.tensor([1., 2., 3., 4.]))
        chan.shift.fill_(1)
    torch.testing.assert_close(chan(x)[:, 2], 3 * x[:, 2] + 1)
    torch.testing.assert_close(chan(rows)[:, 3], 4 * rows[:, 3] + 1)


def test_losses_are_float32_under_bf16_autocast():
    P = F.normalize(torch.randn(3, 4), dim=1)
    feats = torch.randn(2, 4, 3, 3).bfloat16().requires_grad_()
    labels = torch.randint(0, 3, (2, 6, 6))
    head, phi = CAMHead(in_channels=4, num_classes=3), AffineProjection(4)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        cam = head.loss(feats.float(), labels)
        styl = phi(feats.float())
        assert styl.dtype == torch.bfloat16
        losses = [cam, pixel_prototype_contrast(feats, labels, P),
                  diversity_regularizer(feats, P, labels=labels),
                  semantic_consistency_loss(feats, styl, P)]
    assert all(loss.dtype == torch.float32 and torch.isfinite(loss) for loss in losses)
    sum(losses).backward()
    assert feats.grad is not None


# ---------------------------------------------------------------- MomentumPrototypes (§2.6)

def test_first_update_copies_then_momentum_by_hand():
    protos = MomentumPrototypes(num_classes=3, dim=2, momentum=0.9)
    feats = torch.tensor([[1., 0.], [0., 1.], [3., 0.], [0., 2.]])
    updated = protos.update(feats, torch.tensor([0, 0, 1, 255]), torch.tensor([1., 3., 2., 5.]))
    assert updated.tolist() == [True, True, False]
    # p'_0 = (1·(1,0) + 3·(0,1))/4, normalised; p'_1 = (1, 0); class 2 unseen stays 0
    p0 = torch.tensor([1., 3.]) / math.sqrt(10)
    close(protos.prototypes, torch.stack([p0, torch.tensor([1., 0.]), torch.zeros(2)]))
    assert protos.count.tolist() == [2, 1, 0] and protos.seen.tolist() == [True, True, False]
    protos.update(torch.tensor([[0., 5.]]), torch.tensor([0]))  # uniform weights
    p0 = F.normalize(0.9 * p0 + 0.1 * torch.tensor([0., 1.]), dim=0)  # Eq. (7), re-normalised
    close(protos.prototypes, torch.stack([p0, torch.tensor([1., 0.]), torch.zeros(2)]))
    assert protos.count.tolist() == [3, 1, 0]


def test_top_n_by_weight_and_zero_weight_sum():
    protos = MomentumPrototypes(num_classes=2, dim=2, top_n=2)
    feats = torch.tensor([[1., 0.], [0., 1.], [1., 1.], [2., 1.], [7., 7.]])
    labels = torch.tensor([0, 0, 0, 0, 1])
    cams = torch.tensor([[0.1, 0.], [0.9, 0.], [0.5, 0.], [0.7, 0.], [0., 0.]])  # (N, K)
    updated = protos.update(feats, labels, cams)
    # class 0: rows 1 (0.9) and 3 (0.7); class 1: its weight sum is 0, skipped
    expected = F.normalize(0.9 * feats[1] + 0.7 * feats[3], dim=0)
    close(protos.prototypes[0], expected)
    close(protos.prototypes[1], [0., 0.])
    assert updated.tolist() == [True, False] and protos.count.tolist() == [2, 0]
    protos.update(feats[4:], labels[4:], torch.tensor([2.]))  # the first real update: a copy
    close(protos.prototypes[1], [2**-0.5, 2**-0.5])
    # CAM zeros among the top n add nothing to the weighted mean
    fresh = MomentumPrototypes(num_classes=1, dim=2, top_n=2)
    fresh.update(feats[:3], labels[:3], torch.tensor([0., 0., 0.5]))
    close(fresh.prototypes[0], [2**-0.5, 2**-0.5])


def test_uniform_weights_break_ties_at_random():
    protos = MomentumPrototypes(num_classes=1, dim=3, momentum=0.0, top_n=1)
    feats = torch.eye(3).repeat(2, 1) * torch.arange(1., 7.)[:, None]
    labels = torch.tensor([0, 0, 0, 255, 255, 255])
    chosen = set()
    torch.manual_seed(0)
    for _ in range(30):
        protos.update(feats, labels)  # γ = 0: p = p' = the one chosen row, normalised
        chosen.add(protos.prototypes[0].argmax().item())
        assert protos.prototypes[0].max() == 1
    assert chosen == {0, 1, 2}  # never the lowest index only; never an ignored row (same dirs)


def test_dense_maps_equal_rows():
    torch.manual_seed(1)
    feats, labels = torch.randn(2, 4, 3, 5), torch.randint(0, 4, (2, 3, 5))  # 3: not a class
    cams = torch.rand(2, 3, 3, 5)
    dense, rows = MomentumPrototypes(3, 4, top_n=3), MomentumPrototypes(3, 4, top_n=3)
    dense.update(feats, labels[:, None], cams)
    rows.update(feats.permute(0, 2, 3, 1).reshape(-1, 4), labels.flatten(),
                cams.permute(0, 2, 3, 1).reshape(-1, 3))
    torch.testing.assert_close(dense.prototypes, rows.prototypes)
    assert torch.equal(dense.count, rows.count)
    own = cams.gather(1, labels.clamp(max=2)[:, None])[:, 0]  # (B, H, W): the own class's CAM
    own_cls = MomentumPrototypes(3, 4, top_n=3)
    own_cls.update(feats, labels, own)
    torch.testing.assert_close(own_cls.prototypes, rows.prototypes)


def test_update_without_valid_rows_changes_nothing():
    protos = MomentumPrototypes(num_classes=2, dim=2)
    protos.update(torch.tensor([[1., 1.]]), torch.tensor([1]))
    before = protos.state_dict()
    before = {k: v.clone() for k, v in before.items()}
    updated = protos.update(torch.randn(2, 2, 3, 3), torch.full((2, 3, 3), 255),
                            torch.rand(2, 2, 3, 3))
    assert not updated.any()
    for name, value in protos.state_dict().items():
        assert torch.equal(value, before[name])


def test_state_dict_round_trip():
    protos = MomentumPrototypes(num_classes=3, dim=4)
    protos.update(torch.randn(10, 4), torch.randint(0, 3, (10, )))
    assert set(protos.state_dict()) == {'prototypes', 'count'}
    other = MomentumPrototypes(num_classes=3, dim=4)
    other.load_state_dict(protos.state_dict())
    assert torch.equal(other.prototypes, protos.prototypes)
    assert torch.equal(other.count, protos.count)
    feats, labels, w = torch.randn(10, 4), torch.randint(0, 3, (10, )), torch.rand(10)
    protos.update(feats, labels, w)
    other.update(feats, labels, w)
    assert torch.equal(other.prototypes, protos.prototypes)


def test_prototypes_are_identical_across_ranks_and_equal_one_process():
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'prototypes_ddp_check.py'),
                       'PROTOTYPES_DDP_OK')
    assert 'equal the single-process update' in out


# ---------------------------------------------------------------- bad arguments

P2 = torch.eye(2)


@pytest.mark.parametrize('call, name', [
    (lambda: MomentumPrototypes(momentum=1.5), 'momentum'),
    (lambda: MomentumPrototypes(top_n=0), 'top_n'),
    (lambda: MomentumPrototypes(num_classes=0), 'num_classes'),
    (lambda: MomentumPrototypes(2, 2).update(torch.randn(3, 2), torch.zeros(3).long(),
                                             top_n=2.5), 'top_n'),
    (lambda: MomentumPrototypes(2, 2).update(torch.randn(3, 5), torch.zeros(3).long()), 'feats'),
    (lambda: MomentumPrototypes(2, 2).update(torch.randn(3, 2), torch.zeros(4).long()), 'labels'),
    (lambda: MomentumPrototypes(2, 2).update(torch.randn(1, 2, 2, 2), torch.zeros(1, 3, 3).long()),
     'labels'),
    (lambda: MomentumPrototypes(2, 2).update(torch.randn(3, 2), torch.zeros(3).long(),
                                             torch.ones(3, 3)), 'weights'),
    (lambda: pixel_prototype_contrast(torch.randn(3, 2), torch.zeros(3).long(), P2, tau=0),
     'tau'),
    (lambda: pixel_prototype_contrast(torch.randn(3, 2), torch.zeros(3).long(), P2,
                                      num_samples=0), 'num_samples'),
    (lambda: pixel_prototype_contrast(torch.randn(3, 2), torch.zeros(3).long(), torch.eye(3)),
     'prototypes'),
    (lambda: pixel_prototype_contrast(torch.randn(1, 2, 2, 2), torch.zeros(2, 4, 4).long(), P2),
     'labels'),
    (lambda: pixel_prototype_contrast(torch.randn(2, 2, 2), torch.zeros(2).long(), P2), 'feats'),
    (lambda: diversity_regularizer(torch.randn(3, 2), P2, sign=0), 'sign'),
    (lambda: diversity_regularizer(torch.randn(1, 2, 2, 2), P2), 'labels'),
    (lambda: semantic_consistency_loss(torch.randn(3, 2), torch.randn(4, 2), P2), 'stylised_emb'),
    (lambda: semantic_consistency_loss(torch.randn(3, 2), torch.randn(3, 2), torch.eye(3)),
     'prototypes'),
    (lambda: AffineProjection(4, mode='full'), 'mode'),
    (lambda: CAMHead(in_channels=4, num_classes=0), 'num_classes'),
    (lambda: CAMHead(in_channels=4, num_classes=2)(torch.randn(1, 3, 2, 2)), 'feats'),
])
def test_bad_arguments_raise(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize('loss', ['pcl', 'reg', 'sc'])
def test_prototype_similarities_are_float32_under_autocast(loss):
    """L_PCL (v·Pᵀ/T), L_Reg (v̄·Pᵀ/T) and L_SC (φ(v̂)·Pᵀ − v·Pᵀ) under bf16 autocast equal the
    float32 losses and gradients to 1e-6, for float32 and bf16 projections."""
    from test_contrastive_losses import amp_equals_float32
    g = torch.Generator().manual_seed(0)
    P = F.normalize(torch.randn(4, 16, generator=g), dim=1)
    labels = torch.randint(0, 4, (2, 12, 12), generator=g)
    fn = {'pcl': lambda v, _: pixel_prototype_contrast(v, labels, P, 0.1, num_samples=40),
          'reg': lambda v, _: diversity_regularizer(v, P, 0.1, labels=labels),
          'sc': lambda v, v_hat: semantic_consistency_loss(v, v_hat, P)}[loss]

    def seeded(v, v_hat):
        torch.manual_seed(0)  # PCL's samples
        return fn(v, v_hat)
    amp_equals_float32(seeded, torch.randn(2, 16, 6, 6, generator=g),
                       torch.randn(2, 16, 6, 6, generator=g))


def test_prototype_update_is_float32_under_autocast():
    """MomentumPrototypes.update (CAM-weighted top-n means, momentum, normalisation) under bf16
    autocast gives the prototypes of a float32 update of the same values, for float32 and bf16
    projections and CAMs."""
    g = torch.Generator().manual_seed(0)
    feats, cams = torch.randn(2, 16, 6, 6, generator=g), torch.rand(2, 4, 6, 6, generator=g)
    labels = torch.randint(0, 4, (2, 6, 6), generator=g)
    for dtype in (torch.float32, torch.bfloat16):
        ref, amp = (MomentumPrototypes(num_classes=4, dim=16, momentum=0.9, top_n=5)
                    for _ in range(2))
        for step in range(2):
            f, c = feats.roll(step, 0).to(dtype), cams.roll(step, 0).to(dtype)
            torch.manual_seed(step)
            ref.update(f.float(), labels, c.float())
            torch.manual_seed(step)
            with torch.autocast('cpu', dtype=torch.bfloat16):
                amp.update(f, labels, c)
        assert amp.prototypes.dtype == torch.float32
        torch.testing.assert_close(amp.prototypes, ref.prototypes, rtol=1e-6, atol=1e-6)
