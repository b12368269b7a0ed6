"""SDCA: the closed-form distribution-aware contrast (Eq. 6-14) by hand, against its derivation and
against the authors' normalisations; the segmentor's iteration, gradient routing, statistics,
initialisation hook, DACS variant, AMP and DDP."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS
from test_dacs import NUM_CLASSES, paired_batch, tiny_segmentor
from test_ddp_exactness import run_torchrun

from mmseg_uda.models.losses import DistributionContrast, distribution_contrast
from mmseg_uda.models.losses.distribution_contrast import augmented_logits
from mmseg_uda.models.utils.class_statistics import ClassStatistics
from mmseg_uda.models.utils.sampling import labels_to_grid


# -- the loss against its equations ----------------------------------------------------------------
def test_one_query_matches_eq13_by_hand_value_and_gradient():
    """K = 2, A = 2, diagonal Σ: z_k = qᵀμ_k/τ + Σ_a q_a² σ²_ka/(2τ²), L = log Σ e^{z_k} − qᵀμ_y/τ;
    ∂L/∂q = Σ_k p_k (μ_k/τ + Σ_k q/τ²) − μ_y/τ."""
    tau = 0.5
    q = torch.tensor([[0.6, 0.8]], dtype=torch.float64, requires_grad=True)
    mean = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    var = torch.tensor([[0.2, 0.1], [0.3, 0.4]], dtype=torch.float64)
    z0 = 0.6 / tau + (0.36 * 0.2 + 0.64 * 0.1) / (2 * tau ** 2)  # 1.2 + 0.272
    z1 = 0.8 / tau + (0.36 * 0.3 + 0.64 * 0.4) / (2 * tau ** 2)  # 1.6 + 0.728
    expected = math.log(math.exp(z0) + math.exp(z1)) - 0.6 / tau  # y = 0
    loss = distribution_contrast(q, torch.tensor([0]), mean, var, tau)
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    loss.backward()
    p = torch.tensor([z0, z1]).softmax(0).double()
    grad = sum(p[k] * (mean[k] / tau + var[k] * q.detach()[0] / tau ** 2) for k in range(2)) \
        - mean[0] / tau
    torch.testing.assert_close(q.grad[0], grad)


def test_eq14_equals_eq13_and_the_full_form_of_a_diagonal_covariance():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    mean = torch.randn(3, 4, generator=g, dtype=torch.float64)
    var = torch.rand(3, 4, generator=g, dtype=torch.float64)
    z, quad = augmented_logits(q, mean, var, 2.0)
    eq13 = (torch.logsumexp(z, 1) - (q * mean[y]).sum(1) / 2.0).mean()
    eq14 = distribution_contrast(q, y, mean, var, 2.0)
    torch.testing.assert_close(eq14, eq13)
    full = distribution_contrast(q, y, mean, torch.diag_embed(var), 2.0)
    torch.testing.assert_close(full, eq14)


def test_the_bound_is_the_limit_of_infinitely_many_gaussian_pairs():
    """Eq. 9-12: with samples x ~ N(μ_k, Σ_k), log mean exp(qᵀx/τ) → qᵀμ/τ + qᵀΣq/(2τ²) (the
    Gaussian MGF), and the bound lies above Eq. 8's E log(...) (Jensen)."""
    g = torch.Generator().manual_seed(1)
    q = F.normalize(torch.randn(1, 3, generator=g, dtype=torch.float64), dim=1)
    mean = torch.randn(2, 3, generator=g, dtype=torch.float64)
    a = torch.randn(2, 3, 3, generator=g, dtype=torch.float64) * 0.5
    cov = a @ a.transpose(1, 2)  # full, positive definite
    tau, n = 1.0, 400000
    samples = [torch.distributions.MultivariateNormal(mean[k], cov[k]).sample((n, ))
               for k in range(2)]
    dots = [(s @ q[0]) / tau for s in samples]  # (n,) per class
    z, _ = augmented_logits(q, mean, cov, tau)
    for k in range(2):
        assert float(torch.logsumexp(dots[k], 0) - math.log(n)) == pytest.approx(float(z[0, k]),
                                                                                 abs=0.02)
    bound = distribution_contrast(q, torch.tensor([0]), mean, cov, tau)
    neg = torch.logsumexp(dots[1], 0) - math.log(n)  # E over the negatives inside the log (Eq. 8)
    eq8 = (torch.logaddexp(dots[0], neg) - dots[0]).mean()
    assert float(eq8) <= float(bound) + 1e-3


def authors_normalised_loss(feat, labels, mean, var, tau):
    """The code's steps (spec §3.4g), restated: q, μ and the variance vectors L2-normalised, then
    CE((q μᵀ + ½ q² (σ²/τ)ᵀ)/τ, y) + ½ Σ_a q_a² σ²_ya/τ / τ."""
    q, mean, var = (F.normalize(t, dim=1) for t in (feat, mean, var))
    logits = (q @ mean.t() + 0.5 * (q * q) @ (var / tau).t()) / tau
    pcl = 0.5 * (q * q * var[labels] / tau).sum(1).mean() / tau
    return F.cross_entropy(logits, labels) + pcl


@pytest.mark.parametrize('tau', [100.0, 1.0, 0.1])
def test_the_module_with_raw_statistics_is_the_authors_normalisation(tau):
    g = torch.Generator().manual_seed(2)
    feats = torch.randn(40, 5, generator=g) * 3 + 1
    labels = torch.randint(0, 3, (40, ), generator=g)
    labels[:5] = 255  # ignored: skipped by the statistics and the loss
    contrast = DistributionContrast(3, 5, tau=tau)
    contrast.update(feats, labels)
    q = torch.randn(12, 5, generator=g, requires_grad=True)
    y = torch.randint(0, 3, (12, ), generator=g)
    y[0] = 255
    loss = contrast(q, y)
    mean, var = contrast.stats.mean.float(), contrast.stats.cov.float()
    ref = authors_normalised_loss(q[1:], y[1:], mean, var, tau)
    torch.testing.assert_close(loss, ref)
    g1, = torch.autograd.grad(loss, q)
    g2, = torch.autograd.grad(authors_normalised_loss(q[1:], y[1:], mean, var, tau), q)
    torch.testing.assert_close(g1, g2)
    assert g1[0].abs().sum() == 0  # the ignored query gets no gradient


def test_full_covariance_rescales_by_the_frobenius_norm_and_matches_diag_when_diagonal():
    contrast = DistributionContrast(2, 3, tau=1.0, covariance='full')
    contrast.stats.mean.copy_(torch.tensor([[1., 2., 2.], [0., 3., 4.]]))
    contrast.stats.cov.copy_(torch.diag_embed(torch.tensor([[1., 2., 2.], [0., 3., 4.]])))
    contrast.stats.count.fill_(10)
    diag = DistributionContrast(2, 3, tau=1.0, covariance='diag')
    diag.stats.mean.copy_(contrast.stats.mean)
    diag.stats.cov.copy_(torch.tensor([[1., 2., 2.], [0., 3., 4.]]))
    diag.stats.count.fill_(10)
    _, cov = contrast.class_gaussians()
    torch.testing.assert_close(cov[1], torch.diag(torch.tensor([0., 0.6, 0.8])))
    q, y = torch.randn(7, 3), torch.randint(0, 2, (7, ))
    torch.testing.assert_close(contrast(q, y), diag(q, y))


def test_normalized_space_keeps_the_statistics_of_unit_queries():
    g = torch.Generator().manual_seed(3)
    feats, labels = torch.randn(30, 4, generator=g) * 5, torch.randint(0, 2, (30, ), generator=g)
    contrast = DistributionContrast(2, 4, tau=0.5, stats_space='normalized')
    contrast.update(feats, labels)
    unit = F.normalize(feats, dim=1)
    torch.testing.assert_close(contrast.stats.mean[0].float(), unit[labels == 0].mean(0))
    mean, var = contrast.class_gaussians()
    torch.testing.assert_close(var[1], unit[labels == 1].var(0, unbiased=False))
    q, y = torch.randn(5, 4, generator=g), torch.randint(0, 2, (5, ), generator=g)
    torch.testing.assert_close(contrast(q, y), distribution_contrast(F.normalize(q, dim=1), y,
                                                                     mean, var, 0.5))


def test_full_covariance_loss_against_a_literal_per_pixel_loop():
    g = torch.Generator().manual_seed(4)
    contrast = DistributionContrast(3, 4, tau=0.7, covariance='full')
    contrast.update(torch.randn(60, 4, generator=g), torch.randint(0, 3, (60, ), generator=g))
    q, y = torch.randn(5, 4, generator=g, dtype=torch.float64), torch.tensor([0, 1, 2, 2, 0])
    mean, cov = (t.double() for t in contrast.class_gaussians())
    qn = F.normalize(q, dim=1)
    literal = []
    for i in range(5):
        z = torch.stack([qn[i] @ mean[k] / 0.7 + qn[i] @ cov[k] @ qn[i] / (2 * 0.7 ** 2)
                         for k in range(3)])
        literal.append(torch.logsumexp(z, 0) - qn[i] @ mean[y[i]] / 0.7)
    torch.testing.assert_close(contrast(q, y).double(), torch.stack(literal).mean(), rtol=1e-5,
                               atol=1e-6)


def test_all_ignore_absent_and_single_class_are_finite():
    contrast = DistributionContrast(3, 4, tau=0.1)
    q = torch.randn(6, 4, requires_grad=True)
    loss = contrast(q, torch.full((6, ), 255))  # all ignore: 0, connected, zero gradient
    assert float(loss) == 0
    loss.backward()
    assert q.grad.abs().sum() == 0
    # statistics never updated (n = 0 for every class): μ = 0, Σ = 0 -> z = 0, loss = log K
    assert float(contrast(q, torch.zeros(6, dtype=torch.long))) == pytest.approx(math.log(3))
    # classes 1 and 2 absent from the statistics: finite, z = 0 for them
    contrast.update(torch.randn(10, 4), torch.zeros(10, dtype=torch.long))
    assert torch.isfinite(contrast(q, torch.tensor([0, 1, 2, 0, 1, 2])))
    single = DistributionContrast(1, 4, tau=0.1)
    single.update(torch.randn(10, 4), torch.zeros(10, dtype=torch.long))
    loss = single(q, torch.zeros(6, dtype=torch.long))  # CE over one class is 0: the penalty
    _, var = single.class_gaussians()
    qn = F.normalize(q.detach(), dim=1)
    torch.testing.assert_close(loss.detach(), ((qn * qn) @ var[0] / (2 * 0.01)).mean())


def test_bf16_autocast_keeps_the_loss_in_float32():
    g = torch.Generator().manual_seed(5)
    contrast = DistributionContrast(3, 8, tau=0.5, covariance='full')
    contrast.update(torch.randn(50, 8, generator=g), torch.randint(0, 3, (50, ), generator=g))
    q, y = torch.randn(20, 8, generator=g), torch.randint(0, 3, (20, ), generator=g)
    ref = contrast(q, y)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = contrast(q.bfloat16(), y)
    assert out.dtype == torch.float32
    assert float(out) == pytest.approx(float(ref), rel=2e-2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='stats_space'):
        DistributionContrast(3, 4, stats_space='unit')
    with pytest.raises(ValueError, match='tau'):
        DistributionContrast(3, 4, tau=0)
    with pytest.raises(ValueError, match='covariance'):
        DistributionContrast(3, 4, covariance='low-rank')
    with pytest.raises(ValueError, match='dim 5, expected 4'):
        DistributionContrast(3, 4).update(torch.randn(2, 5), torch.zeros(2, dtype=torch.long))


# -- the segmentor ----------------------------------------------------------------------------------
def build_sdca(**kwargs):
    cfg = dict(type='SDCA', segmentor=tiny_segmentor(), feature_contrast=dict(tau=1.0),
               output_contrast=dict(tau=1.0), target_threshold=0.0)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def optim(model):
    return OptimWrapper(torch.optim.SGD(model.student.parameters(), lr=0.01))


def source_cells(batch, size):
    labels = torch.stack([d.gt_sem_seg.data[0] for d in batch['source']['data_samples']])
    return labels_to_grid(labels, size)


def test_an_iteration_has_every_term_and_updates_the_statistics_with_source_pixels_only():
    torch.manual_seed(0)
    model = build_sdca()
    assert model.teacher is None and not model.statistics_initialized
    batch = paired_batch(seed=0)
    log = model.train_step(batch, optim(model))
    assert {'sdca.src.decode.loss_ce', 'sdca.src.loss_lovasz', 'sdca.loss_feat_src',
            'sdca.loss_out_src', 'sdca.loss_feat_tgt', 'sdca.loss_out_tgt',
            'sdca.tgt.confident'} <= set(log)
    assert float(log['sdca.tgt.confident']) == 1.0  # δ = 0: every target pixel
    cells = source_cells(batch, (4, 4))  # 32x32 inputs, output stride 8
    counts = torch.bincount(cells[cells != 255], minlength=NUM_CLASSES).double()
    for level in (model.sdca.feat, model.sdca.out):
        torch.testing.assert_close(level.stats.count, counts)
    assert model.statistics_initialized


@pytest.mark.parametrize('fill', [255, 1])
def test_all_ignore_and_single_class_source_batches_train_finitely(fill):
    torch.manual_seed(0)
    model = build_sdca()
    batch = paired_batch(seed=0)
    for ds in batch['source']['data_samples']:
        ds.gt_sem_seg.data.fill_(fill)
    log = model.train_step(batch, optim(model))
    assert all(math.isfinite(float(v)) for v in log.values())
    counts = model.sdca.feat.stats.count
    assert counts.sum() == (0 if fill == 255 else 32) and counts[[0, 2, 3]].sum() == 0
    assert all(torch.isfinite(p).all() for p in model.student.parameters())


def test_the_statistics_are_updated_before_the_loss():
    torch.manual_seed(0)
    model = build_sdca()
    seen = {}
    forward = model.sdca.losses

    def record(feats, logits, labels, domain):
        seen.setdefault(domain, model.sdca.feat.stats.count.sum().item())
        return forward(feats, logits, labels, domain)
    model.sdca.losses = record
    batch = paired_batch(seed=0)
    model.train_step(batch, optim(model))
    cells = source_cells(batch, (4, 4))
    assert seen['src'] == float((cells != 255).sum())


def losses_gradients(model, keys):
    """Gradients of the sum of the loss terms ``keys`` of one SDCA pass w.r.t. the student."""
    data = model.data_preprocessor(paired_batch(seed=0), True)
    losses = model.sdca_losses(data['inputs']['source'], data['data_samples']['source'],
                               data['inputs']['target'])
    loss = sum(losses[k] for k in keys)
    params = dict(model.student.named_parameters())
    grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
    return {n: (None if g is None or g.abs().sum() == 0 else g) for n, g in zip(params, grads)}


def test_l_feat_reaches_the_encoder_only_and_l_out_the_encoder_and_the_classifier():
    torch.manual_seed(0)
    model = build_sdca()
    feat = losses_gradients(model, ['loss_feat_src', 'loss_feat_tgt'])
    assert feat['backbone.stem.0.weight'] is not None
    assert all(g is None for n, g in feat.items() if n.startswith('decode_head'))
    out = losses_gradients(model, ['loss_out_src', 'loss_out_tgt'])
    assert out['backbone.stem.0.weight'] is not None
    assert out['decode_head.conv_seg.weight'] is not None
    # the statistics are buffers: no gradient, no parameter
    assert not any('sdca' in n for n, _ in model.named_parameters())
    assert not model.sdca.feat.stats.mean.requires_grad


def test_the_target_terms_use_the_networks_own_confident_predictions():
    torch.manual_seed(0)
    model = build_sdca(target_threshold=0.9)
    logits = torch.tensor([[[[4.0]], [[0.0]], [[0.0]], [[0.0]]],  # softmax 0.948 -> class 0
                           [[[1.0]], [[0.5]], [[0.0]], [[0.0]]]])  # 0.45 -> ignore
    mask = model.target_mask(logits)
    assert mask.flatten().tolist() == [0, 255]
    # δ ≈ 0: every target pixel counts, and each target term reaches the encoder (L_out also the
    # classifier)
    model.target_threshold = 1e-6
    feat, out = (losses_gradients(model, [k]) for k in ('loss_feat_tgt', 'loss_out_tgt'))
    assert feat['backbone.stem.0.weight'] is not None and out['backbone.stem.0.weight'] is not None
    assert out['decode_head.conv_seg.weight'] is not None
    # δ = 0.9 on a fresh network: nothing is confident, and the target terms add exactly nothing
    # to the loss or to any gradient
    model.target_threshold = 0.9
    data = model.data_preprocessor(paired_batch(seed=0), True)
    losses = model.sdca_losses(data['inputs']['source'], data['data_samples']['source'],
                               data['inputs']['target'])
    assert losses['tgt.confident'] == 0
    assert losses['loss_feat_tgt'].item() == 0 and losses['loss_out_tgt'].item() == 0
    params = list(model.student.parameters())
    source = sum(v for k, v in losses.items() if 'loss' in k and not k.endswith('_tgt'))
    with_target = source + losses['loss_feat_tgt'] + losses['loss_out_tgt']
    grads = torch.autograd.grad(source, params, retain_graph=True, allow_unused=True)
    grads_with_target = torch.autograd.grad(with_target, params, allow_unused=True)
    assert all(g is None and h is None or torch.equal(g, h)
               for g, h in zip(grads, grads_with_target))


def test_source_only_settings_skip_the_target_pass_and_the_lovasz_weight_is_applied():
    torch.manual_seed(0)
    model = build_sdca(feature_contrast=None, output_contrast=None)
    calls = []
    extract = model.student.extract_feat
    model.student.extract_feat = lambda x: calls.append(x.shape) or extract(x)
    log = model.train_step(paired_batch(seed=0), optim(model))
    assert len(calls) == 1 and not any('feat' in k or 'out_' in k or 'tgt' in k for k in log)
    plain = build_sdca(feature_contrast=None, output_contrast=None, lovasz_weight=1.0)
    plain.load_state_dict(model.state_dict())
    data = model.data_preprocessor(paired_batch(seed=1), True)
    args = (data['inputs']['source'], data['data_samples']['source'], data['inputs']['target'])
    model.eval(), plain.eval()
    lov, lov1 = model.sdca_losses(*args)['src.loss_lovasz'], plain.sdca_losses(*args)[
        'src.loss_lovasz']
    assert float(lov) == pytest.approx(0.75 * float(lov1), rel=1e-5)
    assert 'src.loss_lovasz' not in build_sdca(lovasz_weight=0).sdca_losses(*args)


def test_feature_index_picks_a_backbone_output_of_multi_input_heads():
    seg = tiny_segmentor()
    seg['decode_head'] = dict(type='DAFormerHead', in_channels=[32, 64], in_index=[2, 3],
                              channels=16, embed_dims=16, num_classes=NUM_CLASSES)
    with pytest.raises(KeyError, match='feature_index'):
        build_sdca(segmentor=seg)
    model = MODELS.build(dict(type='SDCA', segmentor=seg, feature_index=2))
    assert model.sdca.feat.stats.dim == 32 and model.sdca.out.stats.dim == NUM_CLASSES
    with pytest.raises(KeyError, match='not a decode head input'):
        build_sdca(feature_index=1)


def test_iterations_under_bf16_autocast_are_finite():
    from mmseg_uda.engine.optim_wrapper import CPUAmpOptimWrapper
    torch.manual_seed(0)
    model = build_sdca(feature_contrast=dict(tau=0.1, covariance='full'))
    ow = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01))
    for i in range(2):
        log = model.train_step(paired_batch(seed=i), ow)
        assert all(math.isfinite(float(v)) for v in log.values())
    assert all(torch.isfinite(p).all() for p in model.student.parameters())
    assert model.sdca.feat.stats.cov.dtype == torch.float64


def test_a_checkpoint_carries_the_statistics():
    torch.manual_seed(0)
    model = build_sdca()
    model.train_step(paired_batch(seed=0), optim(model))
    state = model.state_dict()
    assert {'sdca.feat.stats.mean', 'sdca.feat.stats.cov', 'sdca.feat.stats.count',
            'sdca.out.stats.mean'} <= set(state)
    assert not any(k.startswith('teacher.') for k in state)
    fresh = build_sdca()
    fresh.load_state_dict(state)
    assert fresh.statistics_initialized
    torch.testing.assert_close(fresh.sdca.out.stats.cov, model.sdca.out.stats.cov)


def test_a_plain_segmentor_checkpoint_loads_into_the_student_alone():
    torch.manual_seed(0)
    model = build_sdca()
    plain = MODELS.build(tiny_segmentor())
    missing, unexpected = model.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith('sdca.') for k in missing)
    torch.testing.assert_close(model.student.backbone.stem[0].weight,
                               plain.backbone.stem[0].weight)
    with pytest.raises(ValueError, match='needs a teacher'):
        build_sdca(predict_on='teacher')


def test_sdca_dacs_adds_the_terms_and_without_them_is_dacs():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='SDCADACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99),
                              feature_contrast=dict(tau=1.0), output_contrast=dict(tau=1.0),
                              target_threshold=0.0))
    model.init_weights()
    dacs = MODELS.build(dict(type='DACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99)))
    dacs.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith('sdca')})
    torch.manual_seed(1)
    log = model.train_step(paired_batch(seed=0), optim(model))
    assert {'src.loss_feat_src', 'src.loss_out_src', 'mix.loss_feat_tgt',
            'mix.loss_out_tgt'} <= set(log)
    assert float(model.sdca.feat.stats.count.sum()) > 0
    none = MODELS.build(dict(type='SDCADACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99),
                             feature_contrast=None, output_contrast=None))
    none.load_state_dict(dacs.state_dict(), strict=False)
    torch.manual_seed(1)
    ref = dacs.train_step(paired_batch(seed=0), optim(dacs))
    torch.manual_seed(1)
    same = none.train_step(paired_batch(seed=0), optim(none))
    assert {k: float(v) for k, v in same.items()} == {k: float(v) for k, v in ref.items()}
    with pytest.raises(KeyError, match='feature_contrast'):
        MODELS.build(dict(type='SDCADACS', segmentor=tiny_segmentor(), contrast=dict()))


def test_the_init_hook_computes_the_statistics_of_the_whole_source_set_once(monkeypatch):
    from mmseg_uda.engine import ClassStatisticsInitHook
    torch.manual_seed(0)
    model = build_sdca()
    batches = [paired_batch(seed=i)['source'] for i in range(3)]

    class FakeRunner:
        seed = 0
        logger = type('L', (), {'info': staticmethod(lambda msg: None)})()

        def __init__(self):
            self.model = model

        @staticmethod
        def build_dataloader(cfg, seed=None):
            return batches
    hook = ClassStatisticsInitHook(dataloader=dict())
    state = torch.get_rng_state()
    hook.before_train(FakeRunner())
    assert torch.equal(torch.get_rng_state(), state)
    assert model.training
    # equals ClassStatistics of every labelled cell of the three batches, with the network in eval
    model.eval()
    ref = ClassStatistics(NUM_CLASSES, 64)
    feats, labels = [], []
    with torch.no_grad():
        for b in batches:
            data = model.data_preprocessor(b, True)
            f = model.student.extract_feat(data['inputs'])[3]
            lab = labels_to_grid(torch.stack([d.gt_sem_seg.data[0]
                                              for d in data['data_samples']]), f.shape[2:])
            feats.append(f.permute(0, 2, 3, 1).flatten(0, 2))
            labels.append(lab.flatten())
    ref.update(torch.cat(feats), torch.cat(labels))
    torch.testing.assert_close(model.sdca.feat.stats.mean, ref.mean)
    torch.testing.assert_close(model.sdca.feat.stats.cov, ref.cov)
    before = model.sdca.feat.stats.count.clone()
    hook.before_train(FakeRunner())  # already initialised (e.g. resumed): no second pass
    assert torch.equal(model.sdca.feat.stats.count, before)


def test_state_is_identical_on_every_rank_under_ddp():
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'sdca_ddp_check.py'), 'SDCA_DDP_STATE_OK')
    assert 'state tensors equal on both ranks' in out


@pytest.mark.parametrize('covariance', ['diag', 'full'])
def test_augmented_logits_are_float32_under_autocast(covariance):
    """qᵀμ_k/τ + qᵀΣ_k q/(2τ²) and the loss under bf16 autocast equal float32's (values and
    gradients to 1e-6) for float32 and bf16 queries: no matmul is lowered to bf16."""
    from test_contrastive_losses import amp_equals_float32
    g = torch.Generator().manual_seed(5)
    contrast = DistributionContrast(3, 8, tau=0.5, covariance=covariance)
    contrast.update(torch.randn(50, 8, generator=g), torch.randint(0, 3, (50, ), generator=g))
    y = torch.randint(0, 3, (20, ), generator=g)
    amp_equals_float32(lambda q: contrast(q, y), torch.randn(20, 8, generator=g))
