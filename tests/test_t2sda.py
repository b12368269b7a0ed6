"""T2S-DA: L_pull (Eq. 2–11) and DRW (Eq. 12–13) on hand-checkable tensors, the sampling pieces
(CBQS counts, DENPS pools, the unreliable quantile) and the segmentor's iteration."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO
from mmseg.registry import MODELS
from test_dacs import NUM_CLASSES, build_uda, optim, paired_batch, tiny_segmentor
from test_ddp_exactness import run_torchrun

from mmseg_uda.models.losses import PullContrast, dynamic_class_weights
from mmseg_uda.models.utils.fda import fda_source_to_target
from mmseg_uda.models.utils.sampling import proportional_counts

TAU = 0.5


def unit(*rows):
    return F.normalize(torch.tensor(rows, dtype=torch.float64), dim=1)


def two_class_case():
    """Queries: one pixel per class; source keys: one raw key per class (prototype = its direction);
    target: one unreliable pixel pseudo-labelled 1 and one reliable pixel labelled 0."""
    q = unit([1., 0.2], [0.3, 1.]).requires_grad_()
    labels = torch.tensor([0, 1])
    k_src = torch.tensor([[2., 0.], [0., 3.]], dtype=torch.float64)  # raw: norms 2 and 3
    k_tgt = torch.tensor([[-1., 1.], [1., 1.]], dtype=torch.float64)
    tgt_labels = torch.tensor([1, 0])
    tgt_conf = torch.tensor([0.2, 0.9])
    return q, labels, k_src, k_tgt, tgt_labels, tgt_conf


def info_nce(q, pos, negs, tau):
    """Eq. 2, literally: −log e^{q·k⁺/τ} / (e^{q·k⁺/τ} + Σ e^{q·k⁻/τ})."""
    num = torch.exp(q @ pos / tau)
    return -torch.log(num / (num + sum(torch.exp(q @ k / tau) for k in negs)))


# -- L_pull against Eq. 2–6 ------------------------------------------------------------------------
def test_info_nce_matches_eq2_by_hand_value_and_gradient():
    """n = 1, C = 2: n_q(c) = ⌈2 · ½ · 1⌉ = 1 query per class. m = 2 negatives.
    Class 0: one source negative (the class-1 key) and one target negative (the unreliable pixel,
    labelled 1). Class 1: the only unreliable target pixel is labelled 1, so both negatives are the
    class-0 source key (DENPS falls back to the non-empty domain)."""
    q, labels, k_src, k_tgt, tgt_labels, tgt_conf = two_class_case()
    loss_fn = PullContrast(2, tau=TAU, num_queries=1, num_negatives=2)
    w = torch.tensor([0.25, 0.75])
    loss = loss_fn(q, labels, k_src, labels, k_tgt, tgt_labels, tgt_conf, class_weights=w)
    e0, e1 = unit([1., 0.])[0], unit([0., 1.])[0]
    t = unit([-1., 1.])[0]
    qd = q.detach()
    expected = 0.25 * info_nce(qd[0], e0, [e1, t], TAU) + 0.75 * info_nce(qd[1], e1, [e0, e0], TAU)
    # by hand, with the numbers: class 0: q = (1, .2)/|.|
    a = 1 / math.hypot(1, 0.2)
    l0 = -math.log(math.exp(a / TAU) / (math.exp(a / TAU) + math.exp(0.2 * a / TAU)
                                        + math.exp((-a + 0.2 * a) / math.sqrt(2) / TAU)))
    b = 1 / math.hypot(0.3, 1)
    l1 = -math.log(math.exp(b / TAU) / (math.exp(b / TAU) + 2 * math.exp(0.3 * b / TAU)))
    assert loss.item() == pytest.approx(0.25 * l0 + 0.75 * l1, rel=1e-6)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    # gradient: the literal equation through the same normalisation of the raw queries
    raw = torch.tensor([[1., 0.2], [0.3, 1.]], dtype=torch.float64, requires_grad=True)
    loss_fn(raw, labels, k_src, labels, k_tgt, tgt_labels, tgt_conf, class_weights=w).backward()
    ref = raw.detach().clone().requires_grad_()
    qn = F.normalize(ref, dim=1)
    ref_loss = 0.25 * info_nce(qn[0], e0, [e1, t], TAU) + 0.75 * info_nce(qn[1], e1, [e0, e0], TAU)
    ref_loss.backward()
    torch.testing.assert_close(raw.grad.double(), ref.grad, rtol=1e-5, atol=1e-7)


def test_the_prototype_is_the_normalised_mean_of_raw_features_eq5():
    """Two class-0 source keys (4, 0) and (0, 1): Eq. 5–6 give norm((2, .5)); the pseudo-code's
    mean of unit vectors is (.5, .5), not re-normalised. MSE: ℓ = ‖q − k⁺‖²."""
    q = unit([1., 0.]).requires_grad_()
    k = torch.tensor([[4., 0.], [0., 1.]], dtype=torch.float64)
    lab = torch.tensor([0, 0])
    eq = PullContrast(1, num_queries=1, loss='mse')(q, torch.tensor([0]), k, lab)
    proto = F.normalize(torch.tensor([2., 0.5], dtype=torch.float64), dim=0)
    assert eq.item() == pytest.approx(((q[0] - proto)**2).sum().item(), rel=1e-6)
    assert eq.item() == pytest.approx(2 - 2 * 2 / math.hypot(2, 0.5), rel=1e-6)
    pseudo = PullContrast(1, num_queries=1, loss='mse', prototype='mean_of_normalized')(
        q, torch.tensor([0]), k, lab)
    assert pseudo.item() == pytest.approx(0.5**2 + 0.5**2, rel=1e-6)


def test_eq3_reduction_differs_by_n_q_over_c():
    """All queries of a class are the same pixel, so ℓ is the same for each: Eq. 3 gives
    (1/C) Σ_c w_c n_q(c) ℓ_c and the pseudo-code Σ_c w_c ℓ_c."""
    q, labels, k_src, k_tgt, tgt_labels, tgt_conf = two_class_case()
    args = (q.detach(), labels, k_src, labels, k_tgt, tgt_labels, tgt_conf)
    w = torch.tensor([0.5, 0.5])
    per_class = [PullContrast(2, tau=TAU, num_queries=1, num_negatives=2)(
        q.detach()[c:c + 1], labels[c:c + 1], k_src, labels, k_tgt, tgt_labels, tgt_conf,
        class_weights=torch.tensor([1., 1.])) for c in range(2)]
    n = 8  # n_q = ⌈2 · ½ · 8⌉ = 8 per class
    mean = PullContrast(2, tau=TAU, num_queries=n, num_negatives=2)(*args, class_weights=w)
    eq3 = PullContrast(2, tau=TAU, num_queries=n, num_negatives=2, reduction='eq3')(
        *args, class_weights=w)
    assert mean.item() == pytest.approx(0.5 * sum(per_class).item(), rel=1e-5)
    assert eq3.item() == pytest.approx(0.5 * n / 2 * sum(per_class).item(), rel=1e-5)


def test_random_query_sampling_is_the_weighted_pixel_mean():
    """Without CBQS (C·n queries from all labelled pixels) and uniform weights, the loss is the
    mean of ℓ over the drawn queries; with a single pixel per class each ℓ_c is known."""
    q, labels, k_src, k_tgt, tgt_labels, tgt_conf = two_class_case()
    args = (q.detach(), labels, k_src, labels, k_tgt, tgt_labels, tgt_conf)
    per_class = [PullContrast(2, tau=TAU, num_queries=1, num_negatives=2)(
        q.detach()[c:c + 1], labels[c:c + 1], k_src, labels, k_tgt, tgt_labels, tgt_conf,
        class_weights=torch.tensor([1., 1.])).item() for c in range(2)]
    torch.manual_seed(0)
    loss = PullContrast(2, tau=TAU, num_queries=500, num_negatives=2, query_sampling='random')(
        *args)
    torch.manual_seed(0)
    drawn = torch.randint(2, (1000, ))  # the same draw over the 2 labelled pixels
    share = (drawn == 1).float().mean().item()
    assert loss.item() == pytest.approx((1 - share) * per_class[0] + share * per_class[1],
                                        rel=1e-5)


# -- sampling --------------------------------------------------------------------------------------
def test_cbqs_counts_are_ceil_c_p_n_eq11():
    labels = torch.tensor([0] * 6 + [1] * 2 + [255] * 5)
    # C = 3, n = 4: ⌈3 · 6/8 · 4⌉ = 9, ⌈3 · 2/8 · 4⌉ = 3, absent class 2: 0
    assert proportional_counts(labels, 3, 4).tolist() == [9, 3, 0]
    # exact at integers: 19 classes, one pixel each, n = 128 -> exactly 128 (no float 128.0000001)
    assert proportional_counts(torch.arange(19), 19, 128).tolist() == [128] * 19
    assert proportional_counts(torch.full((4, ), 255), 3, 4).tolist() == [0, 0, 0]


def test_cbqs_draws_the_counts_per_class_with_replacement():
    labels = torch.tensor([0] * 6 + [1] * 2 + [255] * 5)
    drawn = PullContrast(3, num_queries=4).draw_queries(labels)
    assert {c: idx.numel() for c, idx in drawn.items()} == {0: 9, 1: 3}
    assert all((labels[idx] == c).all() for c, idx in drawn.items())
    equal = PullContrast(3, num_queries=4, query_sampling='equal').draw_queries(labels)
    assert {c: idx.numel() for c, idx in equal.items()} == {0: 4, 1: 4}


def tagged_pools():
    """Source keys tagged by row index: classes 0, 1, 2, ignore; target keys: labels and
    confidences chosen so that the unreliable half is rows 0-2 of the target."""
    src_labels = torch.tensor([0, 0, 1, 2, 255])
    tgt_labels = torch.tensor([0, 1, 2, 0, 1, 2])
    tgt_conf = torch.tensor([0.1, 0.2, 0.3, 0.8, 0.9, 0.95])
    k_src = torch.arange(5.)[:, None] * torch.tensor([[1., 0.]])  # row i -> (i, 0)
    k_tgt = torch.arange(6.)[:, None] * torch.tensor([[0., 1.]]) + torch.tensor([[0., 10.]])
    return k_src, src_labels, k_tgt, tgt_labels, tgt_conf


def test_denps_negatives_come_half_from_each_domain_and_never_from_the_class():
    k_src, src_labels, k_tgt, tgt_labels, tgt_conf = tagged_pools()
    gamma = torch.quantile(tgt_conf, 0.5)
    unreliable = tgt_conf <= gamma
    assert unreliable.tolist() == [True, True, True, False, False, False]
    loss = PullContrast(3, num_negatives=100)
    torch.manual_seed(0)
    neg = loss.negatives(0, k_src, src_labels, k_tgt, tgt_labels, unreliable)
    from_src, from_tgt = neg[neg[:, 1] == 0], neg[neg[:, 1] >= 10]
    assert from_src.shape[0] == 50 and from_tgt.shape[0] == 50
    # source: rows of classes 1 and 2 only (not class 0, not the ignore row 4)
    assert set(from_src[:, 0].long().tolist()) == {2, 3}
    # target: unreliable rows (0-2) not pseudo-labelled 0 -> rows 1, 2
    assert set((from_tgt[:, 1] - 10).long().tolist()) == {1, 2}
    union = PullContrast(3, num_negatives=400, negative_sampling='union')
    neg = union.negatives(0, k_src, src_labels, k_tgt, tgt_labels, unreliable)
    assert neg.shape[0] == 400
    share_src = (neg[:, 1] == 0).float().mean().item()
    assert share_src == pytest.approx(0.5, abs=0.1)  # 2 source + 2 target rows in the union
    # no target at all (domain generalisation): all m from the source
    assert loss.negatives(0, k_src, src_labels, None, None, None).shape[0] == 100


def test_negatives_fall_back_to_the_other_domain_and_to_none():
    k_src, src_labels, k_tgt, tgt_labels, tgt_conf = tagged_pools()
    loss = PullContrast(3, num_negatives=10)
    only_class0 = torch.zeros(5, dtype=torch.long)
    neg = loss.negatives(0, k_src, only_class0, k_tgt, tgt_labels, tgt_conf < 0.5)
    assert neg.shape[0] == 10 and (neg[:, 1] >= 10).all()
    none = loss.negatives(0, k_src, only_class0, k_tgt, torch.zeros(6, dtype=torch.long),
                          tgt_conf < 0.5)
    assert none.shape[0] == 0


# -- edge cases ------------------------------------------------------------------------------------
@pytest.mark.parametrize('case', ['all_ignore', 'single_class', 'absent_source_class',
                                  'no_negative', 'no_target'])
def test_edge_cases_are_finite(case):
    torch.manual_seed(0)
    q = torch.randn(12, 4, requires_grad=True)
    labels = torch.tensor([0, 1, 2] * 4)
    src_labels = labels.clone()
    tgt = dict(tgt_keys=torch.randn(12, 4), tgt_labels=torch.tensor([1, 2, 0] * 4),
               tgt_conf=torch.rand(12))
    if case == 'all_ignore':
        labels = src_labels = torch.full((12, ), 255)
    elif case == 'single_class':
        labels = src_labels = torch.zeros(12, dtype=torch.long)
    elif case == 'absent_source_class':  # a query class without source pixels: skipped
        src_labels = torch.where(labels == 2, 255, labels)
    elif case == 'no_negative':
        labels = src_labels = torch.zeros(12, dtype=torch.long)
        tgt['tgt_labels'] = torch.zeros(12, dtype=torch.long)
    elif case == 'no_target':
        tgt = {}
    loss = PullContrast(3, num_queries=4, num_negatives=8)(q, labels, torch.randn(12, 4),
                                                           src_labels, **tgt)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(q.grad).all()
    if case in ('all_ignore', 'no_negative'):  # nothing to pull / only the positive: log 1 = 0
        assert loss.item() == 0 and (q.grad == 0).all()
    else:
        assert loss.item() > 0


def test_gradients_flow_through_the_queries_only():
    q, labels, k_src, k_tgt, tgt_labels, tgt_conf = two_class_case()
    k_src.requires_grad_()
    k_tgt.requires_grad_()
    PullContrast(2, tau=TAU, num_queries=4, num_negatives=4)(
        q, labels, k_src, labels, k_tgt, tgt_labels, tgt_conf).backward()
    assert q.grad.abs().sum() > 0
    assert k_src.grad is None and k_tgt.grad is None


def test_bf16_autocast_computes_the_loss_in_float32():
    q, labels, k_src, k_tgt, tgt_labels, tgt_conf = two_class_case()
    args = (q.detach().float(), labels, k_src.float(), labels, k_tgt.float(), tgt_labels, tgt_conf)
    loss_fn = PullContrast(2, tau=0.2, num_queries=16, num_negatives=16)
    torch.manual_seed(0)
    ref = loss_fn(*args)
    torch.manual_seed(0)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        amp = loss_fn(args[0].bfloat16(), *args[1:])
    assert amp.dtype == torch.float32
    assert amp.item() == pytest.approx(ref.item(), rel=2e-2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='query_sampling'):
        PullContrast(3, query_sampling='cbqs')
    with pytest.raises(ValueError, match='unreliable_ratio'):
        PullContrast(3, unreliable_ratio=50)
    with pytest.raises(ValueError, match='absent'):
        dynamic_class_weights(torch.rand(4), torch.zeros(4, dtype=torch.long), 2, absent='drop')


# -- DRW, Eq. 12–13 --------------------------------------------------------------------------------
def test_drw_matches_eq12_13_by_hand():
    """conf(0) = mean(.9, .7) = .8, conf(1) = .5, class 2 never predicted (least confident):
    w ∝ (.2^½, .5^½, 1^½), normalised; Eq. 12's max-denominator cancels."""
    conf = torch.tensor([0.9, 0.7, 0.5])
    label = torch.tensor([0, 0, 1])
    w = dynamic_class_weights(conf, label, 3, beta=0.5)
    raw = torch.tensor([0.2, 0.5, 1.0]).sqrt()
    torch.testing.assert_close(w, raw / raw.sum())
    eq12 = (torch.tensor([0.2, 0.5, 1.0]) / 1.0)**0.5
    torch.testing.assert_close(w, eq12 / eq12.sum())
    # beta is an exponent (the pseudo-code's "* beta" would make it irrelevant)
    w2 = dynamic_class_weights(conf, label, 3, beta=2.0)
    torch.testing.assert_close(w2, torch.tensor([0.04, 0.25, 1.0]) / 1.29)
    excluded = dynamic_class_weights(conf, label, 3, beta=0.5, absent='exclude')
    assert excluded[2] == 0 and excluded.sum().item() == pytest.approx(1)
    # every prediction certain: no weight left -> uniform
    assert dynamic_class_weights(torch.ones(3), label, 2).tolist() == [0.5, 0.5]


# -- the segmentor ---------------------------------------------------------------------------------
PROJECTOR = dict(type='ProjectionHead', in_channels=64, channels=16, out_channels=16, num_convs=2,
                 kernel_size=3, norm_cfg=dict(type='BN'), final_act=True, normalize=False)


def build_t2sda(**kwargs):
    return build_uda(**{**dict(type='T2SDA', segmentor=tiny_segmentor(), ema=dict(alpha=0.99),
                               projection_head=PROJECTOR,
                               pull=dict(num_queries=8, num_negatives=32),
                               imnet_feature_dist=None), **kwargs})


def record_grads(model, prefix):
    """Wrap ``model.backward`` to record the student's gradients of the ``prefix`` losses."""
    grads = {}

    def backward(losses, optim_wrapper, pre):
        if pre == prefix:
            loss = sum(v for k, v in losses.items() if 'loss' in k)
            params = dict(model.student.named_parameters())
            grads.update(zip(params, torch.autograd.grad(loss, list(params.values()),
                                                         retain_graph=True, allow_unused=True)))
        return type(model).backward(model, losses, optim_wrapper, pre)
    model.backward = backward
    return grads


def test_pull_reaches_the_encoder_and_projector_only():
    torch.manual_seed(0)
    model = build_t2sda()
    grads = record_grads(model, 'pull')
    log = {k: float(v) for k, v in model.train_step(paired_batch(seed=0), optim(model)).items()}
    assert log['pull.pull'] > 0 and log['pull.loss_pull'] == pytest.approx(0.1 * log['pull.pull'],
                                                                          rel=1e-5)
    assert grads['projection_head.convs.1.conv.weight'].abs().sum() > 0
    assert grads['backbone.stem.0.weight'].abs().sum() > 0
    assert all(g is None for n, g in grads.items() if n.startswith('decode_head'))
    assert all(p.grad is None and not p.requires_grad for p in model.teacher_model.parameters())


def test_source_and_mixed_losses_do_not_reach_the_projector():
    torch.manual_seed(0)
    model = build_t2sda()
    for prefix in ('src', 'mix'):
        grads = record_grads(model, prefix)
        model.train_step(paired_batch(seed=0), optim(model))
        assert all(g is None for n, g in grads.items() if n.startswith('projection_head'))


def test_queries_come_from_the_fda_pseudo_target_and_keys_from_the_teacher():
    """T(x_s) is FDA of each source image with its paired target image (raw pixels); the student
    projects T(x_s), the teacher projects x_s."""
    torch.manual_seed(0)
    model = build_t2sda(translation=[dict(type='FDA', beta=0.1)])
    data = model.data_preprocessor(paired_batch(seed=0), True)
    src, tgt = data['inputs']['source'], data['inputs']['target']
    out = model.translate(src, tgt)
    expected = fda_source_to_target(model.denormalize(src), model.denormalize(tgt), 0.1)
    torch.testing.assert_close(model.denormalize(out), expected, atol=1e-3, rtol=0)
    assert not torch.allclose(out, src)
    seen = {}
    student_extract = model.student.extract_feat
    teacher_extract = model.teacher_model.extract_feat
    model.student.extract_feat = lambda x: seen.setdefault('student', []).append(x) \
        or student_extract(x)
    model.teacher_model.extract_feat = lambda x: seen.setdefault('teacher', []).append(x) \
        or teacher_extract(x)
    torch.manual_seed(0)
    model.train_step(paired_batch(seed=0), optim(model))
    # student: source, mixed, pseudo-target; teacher: target, source
    assert torch.equal(seen['teacher'][1], src)
    assert not torch.equal(seen['student'][2], src) and seen['student'][2].shape == src.shape


def test_without_pull_it_is_dacs():
    torch.manual_seed(0)
    model = build_t2sda(pull=None)
    dacs = MODELS.build(dict(type='DACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99),
                             imnet_feature_dist=None))
    dacs.student.load_state_dict(model.student.state_dict(), strict=False)
    dacs.teacher.load_state_dict(model.teacher.state_dict(), strict=False)
    torch.manual_seed(1)
    a = model.train_step(paired_batch(seed=0), optim(model))
    torch.manual_seed(1)
    b = dacs.train_step(paired_batch(seed=0), optim(dacs))
    assert a.keys() == b.keys() and all(float(a[k]) == float(b[k]) for k in a)


def test_drw_on_target_reweights_the_pseudo_label_weights():
    model = build_t2sda(pull=None, reweight_target=True, pseudo_threshold=1e-6)  # all confident
    probs = torch.tensor([0.9, 0.1, 0., 0.]).view(1, 4, 1, 1).repeat(1, 1, 2, 2)
    probs[0, :, 0, 0] = torch.tensor([0.2, 0.6, 0.1, 0.1])
    label, weight, _ = model.pseudo_labels(probs)
    w = dynamic_class_weights(probs.max(1)[0], label, NUM_CLASSES)
    torch.testing.assert_close(weight, NUM_CLASSES * w[label])  # q = 1 (threshold ~0)
    with pytest.raises(ValueError, match='reweight_target'):
        build_t2sda(reweight_target=True, class_weighting=dict(type='uniform'))


def test_domain_generalisation_trains_on_plain_source_batches():
    torch.manual_seed(0)
    aug = [dict(type='PhotometricAug', color_jitter=(0.8, 0.8, 0.8, 0.2), cutout_max=0),
           dict(type='StrongPhotometricAug', color_jitter_strength=0, blur=True)]
    model = build_t2sda(target_free=True, class_weighting=dict(type='uniform'), translation=aug)
    batch = paired_batch(seed=0)['source']
    log = {k: float(v) for k, v in model.train_step(batch, optim(model)).items()}
    assert not any(k.startswith('mix.') for k in log) and log['pull.pull'] > 0
    with pytest.raises(ValueError, match='plain source dataloader'):
        model.train_step(paired_batch(seed=0), optim(model))
    with pytest.raises(ValueError, match='no target images'):
        build_t2sda(target_free=True, class_weighting=dict(type='uniform'))  # FDA needs a target
    with pytest.raises(ValueError, match='no target images'):
        build_t2sda(target_free=True, translation=aug)  # DRW needs target predictions


def test_static_class_weights_and_bad_switches():
    model = build_t2sda(class_weighting=dict(type='static', weights=[1, 1, 2, 4]))
    torch.testing.assert_close(model.class_weights(None), torch.tensor([1, 1, 2, 4.]) / 8)
    with pytest.raises(ValueError, match='one per class'):
        build_t2sda(class_weighting=dict(type='static', weights=[1, 2]))
    with pytest.raises(ValueError, match='query_image'):
        build_t2sda(query_image='target')
    with pytest.raises(ValueError, match='translation type'):
        build_t2sda(translation=[dict(type='CUT')])
    with pytest.raises(KeyError, match='pull'):
        build_t2sda(contrast=dict())


@pytest.mark.parametrize('switches', [
    dict(query_image='source'),
    dict(key_image='pseudo_target'),
    dict(pull=dict(loss='mse')),
    dict(pull=dict(query_sampling='random', negative_sampling='union', reduction='eq3'),
         class_weighting=dict(type='uniform'), label_grid=dict(mode='ratio', min_ratio=0.3)),
])
def test_ablation_switches_train(switches):
    torch.manual_seed(0)
    model = build_t2sda(**switches)
    log = model.train_step(paired_batch(seed=0), optim(model))
    assert float(log['pull.pull']) > 0 and all(math.isfinite(float(v)) for v in log.values())


@pytest.mark.parametrize('labels', ['all_ignore', 'single_class'])
def test_all_ignore_and_single_class_source_batches_train_finitely(labels):
    torch.manual_seed(0)
    model = build_t2sda()
    batch = paired_batch(seed=0)
    for ds in batch['source']['data_samples']:
        data = ds.gt_sem_seg.data
        data.fill_(255 if labels == 'all_ignore' else 2)
    log = model.train_step(batch, optim(model))
    assert all(math.isfinite(float(v)) for v in log.values())
    assert all(torch.isfinite(p).all() for p in model.student.parameters())


def test_iterations_under_bf16_autocast_are_finite():
    from mmseg_uda.engine.optim_wrapper import CPUAmpOptimWrapper
    torch.manual_seed(0)
    model = build_t2sda()
    ow = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01))
    for i in range(2):
        log = model.train_step(paired_batch(seed=i), ow)
        assert all(math.isfinite(float(v)) for v in log.values())
    assert float(log['pull.pull']) > 0
    assert all(torch.isfinite(p).all() for p in model.student.parameters())


def test_the_teacher_projector_is_an_ema_and_in_the_checkpoint():
    torch.manual_seed(0)
    model = build_t2sda()
    before = model.teacher_model.projection_head.convs[0].conv.weight.clone()
    for i in range(2):
        model.train_step(paired_batch(seed=i), optim(model))
    after = model.teacher_model.projection_head.convs[0].conv.weight
    assert not torch.equal(before, after)
    state = model.state_dict()
    assert 'teacher.module.projection_head.convs.0.conv.weight' in state
    assert 'student.projection_head.convs.0.conv.weight' in state
    clone = build_t2sda()
    clone.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(clone.state_dict().values(), state.values()))


def test_state_is_identical_on_every_rank_under_ddp():
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 't2sda_ddp_check.py'), 'T2SDA_DDP_STATE_OK')
    assert 'state tensors equal on both ranks' in out


def test_the_key_pass_leaves_the_teacher_bn_statistics_to_the_target_pass():
    """With teacher_bn='train' the teacher's running statistics are those of DACS's target passes
    only: T2S-DA's source-key pass uses batch statistics but does not move them."""
    torch.manual_seed(0)
    model = build_t2sda()
    reference = build_t2sda(pull=None)
    reference.load_state_dict(model.state_dict())
    for m in (model, reference):
        torch.manual_seed(1)
        m.train_step(paired_batch(seed=0), optim(m))
    buffers = {n: b for n, b in model.teacher.named_buffers() if 'running' in n
               and 'projection_head' not in n}
    ref = dict(reference.teacher.named_buffers())
    assert buffers and all(torch.equal(b, ref[n]) for n, b in buffers.items())


def test_frozen_bn_statistics_normalise_with_the_batch_and_restore():
    from mmseg_uda.models.utils.batch_norm import frozen_bn_statistics
    bn = torch.nn.BatchNorm1d(2, momentum=None).train()
    x = torch.randn(8, 2) * 3 + 1
    before = [t.clone() for t in (bn.running_mean, bn.running_var, bn.num_batches_tracked)]
    with frozen_bn_statistics(bn):
        y = bn(x)
    torch.testing.assert_close(y, F.batch_norm(x, None, None, training=True))
    assert all(torch.equal(a, b) for a, b in zip(
        before, (bn.running_mean, bn.running_var, bn.num_batches_tracked)))
    assert bn.momentum is None


def test_similarities_are_float32_under_autocast():
    """L_pull (query-prototype and query-negative logits, DENPS from source and unreliable target
    keys) under bf16 autocast equals the float32 loss and gradients to 1e-6, for float32 and bf16
    queries and keys."""
    from test_contrastive_losses import amp_equals_float32
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 3, (40, ), generator=g)
    tgt_labels, tgt_conf = torch.randint(0, 3, (30, ), generator=g), torch.rand(30, generator=g)
    loss_fn = PullContrast(3, tau=0.2, num_queries=16, num_negatives=16)

    def loss(q, k_src, k_tgt):
        torch.manual_seed(0)
        return loss_fn(q, labels, k_src, labels, k_tgt, tgt_labels, tgt_conf)
    amp_equals_float32(loss, *(torch.randn(n, 8, generator=g) for n in (40, 40, 30)))
