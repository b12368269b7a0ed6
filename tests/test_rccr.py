"""RCCR: the region-wise contrast (Eq. 4–8) on hand-checkable tensors, its shared pieces (chunked
negatives, batch memory, CutMix squares, cell labels, μ(t)) and the segmentor's iteration."""
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from conftest import REPO
from mmseg.registry import MODELS
from test_ddp_exactness import run_torchrun
from test_dacs import NUM_CLASSES, paired_batch, tiny_segmentor

from mmseg_uda.models.losses import RegionContrast, negative_logsumexp
from mmseg_uda.models.utils.memory_bank import BatchMemory
from mmseg_uda.models.utils.mixing import cutmix_squares, grid_to_pixels
from mmseg_uda.models.utils.ramp import exp_rampup
from mmseg_uda.models.utils.sampling import labels_to_grid

LITERAL = dict(random_half=False, class_aware=False, confidence=None, memory_batches=0)


def unit(*rows):
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


def grid_maps(vectors, h, w):
    """(P, D) cell embeddings in row-major order as a (1, D, h, w) map."""
    return vectors.t().reshape(1, -1, h, w)


# -- Eq. 4-8 on a 1x2 grid -------------------------------------------------------------------------
def test_one_anchor_matches_eq5_by_hand_value_and_gradient():
    """Cells 0, 1; the square is cell 0 (s = 1). Anchor E_cut(0) = (1, 0), positive Ê_t(0) = (1, 0);
    negatives Ê_t(1) = (0, 1) and E_cut(1) = (−1, 0); the anchor's own cell is excluded in both maps
    (Eq. 8)."""
    tau = 0.5
    e_cut = unit([1., 0.], [-1., 0.]).requires_grad_()
    e_t = unit([1., 0.], [0., 1.])
    loss = RegionContrast(dim=2, tau=tau, **LITERAL)(
        grid_maps(e_cut, 1, 2), grid_maps(e_t, 1, 2), torch.tensor([[[True, False]]]),
        torch.ones(1, 1, 2), torch.zeros(1, 1, 2, dtype=torch.long),
        torch.zeros(1, 1, 2, dtype=torch.long))
    pos, n1, n2 = math.exp(1 / tau), math.exp(0 / tau), math.exp(-1 / tau)
    expected = -math.log(pos / (pos + n1 + n2))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    # dℓ/da = (Σ_k p_k k − k⁺)/τ over {k⁺, Ê_t(1), E_cut(1)}; dℓ/dE_cut(1) = p_{E_cut(1)} a / τ
    z = pos + n1 + n2
    p_pos, p1, p2 = pos / z, n1 / z, n2 / z
    keys = torch.tensor([[1., 0.], [0., 1.], [-1., 0.]])
    grad_anchor = ((p_pos * keys[0] + p1 * keys[1] + p2 * keys[2]) - keys[0]) / tau
    torch.testing.assert_close(e_cut.grad[0], grad_anchor)
    torch.testing.assert_close(e_cut.grad[1], p2 * torch.tensor([1., 0.]) / tau)


def naive_region_contrast(e_cut, e_t, square, conf, label_t, label_cut, tau, delta, class_aware,
                          bank=None, normalize='square'):
    """Eq. 4-8 with explicit loops over anchors and keys (no chunking, no vectorisation)."""
    losses = []
    for b in range(e_cut.shape[0]):
        q = e_cut[b].flatten(1).t()
        k = e_t[b].flatten(1).t()
        lt, lc = label_t[b].flatten(), label_cut[b].flatten()
        anchors = [i for i in range(q.shape[0]) if square[b].flatten()[i]
                   and (delta is None or conf[b].flatten()[i] > delta)]
        total = 0.
        for i in anchors:
            pos = torch.exp(q[i] @ k[i] / tau)
            neg = 0.
            for j in range(q.shape[0]):
                if j == i:
                    continue
                if not (class_aware and lt[j] == lt[i]):
                    neg = neg + torch.exp(q[i] @ k[j] / tau)
                if not (class_aware and lc[j] == lt[i]):
                    neg = neg + torch.exp(q[i] @ q[j] / tau)
            if bank is not None:
                for key, lab in zip(*bank):
                    if not (class_aware and lab == lt[i]):
                        neg = neg + torch.exp(q[i] @ key / tau)
            total = total - torch.log(pos / (pos + neg))
        n = int(square[b].sum()) if normalize == 'square' else len(anchors)
        losses.append(total / max(n, 1))
    return sum(losses) / len(losses)


def random_case(seed=0, b=2, h=3, w=4, d=8, classes=3):
    g = torch.Generator().manual_seed(seed)
    e_cut = F.normalize(torch.randn(b, d, h, w, generator=g), dim=1)
    e_t = F.normalize(torch.randn(b, d, h, w, generator=g), dim=1)
    square = torch.zeros(b, h, w, dtype=torch.bool)
    square[:, :2, 1:3] = True
    conf = torch.rand(b, h, w, generator=g)
    label_t = torch.randint(0, classes, (b, h, w), generator=g)
    label_cut = torch.randint(0, classes, (b, h, w), generator=g)
    return e_cut, e_t, square, conf, label_t, label_cut


@pytest.mark.parametrize('class_aware,delta,normalize', [
    (False, None, 'square'), (True, None, 'square'), (True, 0.4, 'square'),
    (True, 0.4, 'anchors')])
def test_matches_the_literal_equations_value_and_gradient(class_aware, delta, normalize):
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    a = e_cut.clone().requires_grad_()
    loss = RegionContrast(dim=8, tau=0.1, random_half=False, class_aware=class_aware,
                          confidence=delta, memory_batches=0, normalize=normalize,
                          chunk_size=5)(a, e_t, square, conf, label_t, label_cut)
    loss.backward()
    b = e_cut.clone().double().requires_grad_()
    ref = naive_region_contrast(b, e_t.double(), square, conf, label_t, label_cut, 0.1, delta,
                                class_aware, normalize=normalize)
    ref.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    torch.testing.assert_close(a.grad, b.grad.float(), rtol=1e-4, atol=1e-6)


def test_memory_keys_are_negatives_of_the_next_iteration():
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    rc = RegionContrast(dim=8, tau=0.1, random_half=False, class_aware=True, confidence=None,
                        memory_batches=2)
    rc(e_cut, e_t, square, conf, label_t, label_cut)
    bank = rc.memory.get()
    assert bank[0].shape == (2 * 2 * 12, 8)  # both maps of both images, no halving
    e_cut2, e_t2, *_ = random_case(seed=1)
    loss = rc(e_cut2, e_t2, square, conf, label_t, label_cut)
    ref = naive_region_contrast(e_cut2.double(), e_t2.double(), square, conf, label_t, label_cut,
                                0.1, None, True, bank=(bank[0].double(), bank[1]))
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)


def test_random_half_keeps_half_of_the_candidates_and_only_they_are_stored():
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    rc = RegionContrast(dim=8, random_half=True, memory_batches=1)
    torch.manual_seed(0)
    loss = rc(e_cut, e_t, square, conf, label_t, label_cut)
    assert rc.memory.get()[0].shape == (2 * 12, 8)  # hw of the 2hw candidates per image
    torch.manual_seed(0)
    again = RegionContrast(dim=8, random_half=True, memory_batches=1)(
        e_cut, e_t, square, conf, label_t, label_cut)
    assert loss == again  # the half is drawn from torch's generator (resumable)


def test_the_square_normalisation_counts_cells_that_positive_sampling_removed():
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    kwargs = dict(dim=8, random_half=False, memory_batches=0, confidence=0.4)
    by_square = RegionContrast(normalize='square', **kwargs)(e_cut, e_t, square, conf, label_t,
                                                             label_cut)
    by_anchor = RegionContrast(normalize='anchors', **kwargs)(e_cut, e_t, square, conf, label_t,
                                                              label_cut)
    anchors = (square & (conf > 0.4)).flatten(1).sum(1).float()
    assert 0 < anchors.min() < 4  # an image where PS removed cells of the square
    assert by_square < by_anchor


# -- edge cases --------------------------------------------------------------------------------------
def test_no_confident_cell_gives_zero_with_zero_gradients():
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    a = e_cut.clone().requires_grad_()
    loss = RegionContrast(dim=8)(a, e_t, square, torch.zeros_like(conf), label_t, label_cut)
    loss.backward()
    assert loss.item() == 0 and torch.equal(a.grad, torch.zeros_like(a))


@pytest.mark.parametrize('labels', ['single_class', 'all_ignore'])
def test_single_class_and_all_ignore_labels_are_finite(labels):
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    label_t = torch.zeros_like(label_t)
    label_cut = torch.zeros_like(label_cut) if labels == 'single_class' \
        else torch.full_like(label_cut, 255)
    a = e_cut.clone().requires_grad_()
    rc = RegionContrast(dim=8, confidence=None, random_half=False, memory_batches=0)
    loss = rc(a, e_t, square, conf, label_t, label_cut)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(a.grad).all()
    if labels == 'single_class':  # NS(C) removes every negative: −log(e^{s⁺} / e^{s⁺}) = 0
        assert loss.item() == pytest.approx(0.0, abs=1e-6)
        assert a.grad.abs().max() < 1e-6
    else:  # ignore-labelled E_cut keys stay negatives (literal), unless dropped
        assert loss > 0
        dropped = RegionContrast(dim=8, confidence=None, random_half=False, memory_batches=0,
                                 drop_ignore_negatives=True)(e_cut, e_t, square, conf, label_t,
                                                             label_cut)
        assert dropped.item() == pytest.approx(0.0, abs=1e-6)


def test_bf16_autocast_keeps_the_loss_in_float32():
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    rc = RegionContrast(dim=8, random_half=False, memory_batches=0)
    ref = rc(e_cut, e_t, square, conf, label_t, label_cut)
    a = e_cut.bfloat16().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = rc(a, e_t.bfloat16(), square, conf, label_t, label_cut)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(a.grad.float()).all()
    assert loss.item() == pytest.approx(ref.item(), rel=2e-2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='normalize'):
        RegionContrast(normalize='mean')
    with pytest.raises(ValueError, match='tau'):
        RegionContrast(tau=0)


# -- chunked negatives -----------------------------------------------------------------------------
@pytest.mark.parametrize('chunk', [1, 3, 100])
def test_negative_logsumexp_equals_the_dense_masked_logsumexp(chunk):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(5, 4, generator=g, requires_grad=True)
    k = torch.randn(7, 4, generator=g, requires_grad=True)
    a_ids, k_ids = torch.tensor([0, 1, 2, 0, 1]), torch.tensor([0, 0, 1, 1, 2, 2, 3])
    a_cls, k_cls = torch.tensor([5, 6, 5, 6, 5]), torch.tensor([6, 6, 6, 5, 5, 7, 7])
    out = negative_logsumexp(a, k, 0.3, [(a_ids, k_ids), (a_cls, k_cls)], chunk_size=chunk)
    (out * torch.arange(1., 6.)).sum().backward()
    a2, k2 = a.detach().clone().requires_grad_(), k.detach().clone().requires_grad_()
    drop = (a_ids[:, None] == k_ids[None]) | (a_cls[:, None] == k_cls[None])
    dense = (a2 @ k2.t() / 0.3).masked_fill(drop, float('-inf')).logsumexp(1)
    (dense * torch.arange(1., 6.)).sum().backward()
    torch.testing.assert_close(out, dense)
    torch.testing.assert_close(a.grad, a2.grad)
    torch.testing.assert_close(k.grad, k2.grad)


def test_negative_logsumexp_of_an_anchor_without_keys_is_minus_infinity_in_effect():
    a = torch.randn(2, 3, requires_grad=True)
    k = torch.randn(2, 3)
    out = negative_logsumexp(a, k, 0.1, [(torch.tensor([0, 1]), torch.tensor([0, 0]))])
    assert out[0] < -1e8 and torch.isfinite(out[1])
    torch.logaddexp(torch.zeros(2), out).sum().backward()
    assert torch.isfinite(a.grad).all() and a.grad[0].abs().max() == 0
    empty = negative_logsumexp(a, k[:0], 0.1)
    assert (empty < -1e8).all()


# -- shared pieces -----------------------------------------------------------------------------------
def test_batch_memory_keeps_the_last_pushes_and_survives_a_checkpoint():
    mem = BatchMemory(batches=2, dim=2)
    assert mem.get()[0].shape == (0, 2)
    for i in range(3):
        mem.push(torch.full((i + 1, 2), float(i)), torch.full((i + 1, ), i))
    keys, labels = mem.get()
    assert sorted(labels.tolist()) == [1, 1, 2, 2, 2]  # push 0 evicted; widths grew to 3
    restored = BatchMemory(batches=2, dim=2)
    restored.load_state_dict(mem.state_dict())
    assert torch.equal(restored.get()[0], keys) and int(restored.ptr) == 3
    with pytest.raises(ValueError, match='dim'):
        mem.push(torch.zeros(1, 3), torch.zeros(1))


def test_cutmix_squares_cover_half_the_grid_inside_it():
    torch.manual_seed(0)
    sq = cutmix_squares(50, (8, 6), area=0.5)
    side = round(math.sqrt(0.5 * 48))
    assert (sq.flatten(1).sum(1) == side * side).all()
    rows, cols = sq.any(2), sq.any(1)
    assert (rows.sum(1) == side).all() and (cols.sum(1) == side).all()
    # every corner position is reachable
    assert len({int(r.nonzero()[0]) for r in rows}) == 8 - side + 1
    varied = cutmix_squares(50, (8, 8), area=(0.1, 0.9)).flatten(1).sum(1)
    assert varied.min() < varied.max()
    with pytest.raises(ValueError, match='area'):
        cutmix_squares(1, (4, 4), area=1.5)


def test_grid_to_pixels_covers_whole_cells():
    sq = torch.zeros(1, 2, 3, dtype=torch.bool)
    sq[0, 1, 2] = True
    px = grid_to_pixels(sq, (16, 24))  # stride 8: cell (1, 2) is rows [4, 16), columns [12, 24)
    assert px[0, 4:, 12:].all() and px.sum() == 12 * 12


def test_cell_labels_sample_the_feature_centres():
    labels = torch.arange(64).view(1, 8, 8)  # stride 4: positions on pixels 0 and 4
    assert labels_to_grid(labels, (2, 2)).tolist() == [[[0, 4], [4 * 8, 4 * 8 + 4]]]


def test_mu_matches_the_spec_table():
    assert exp_rampup(0, 100, 0.01, 0.5) == pytest.approx(6.74e-5, rel=1e-2)
    assert exp_rampup(50, 100, 0.01, 0.5) == pytest.approx(2.91e-4, rel=1e-2)
    assert exp_rampup(90, 100, 0.01, 0.5) == pytest.approx(2.06e-3, rel=1e-2)
    assert exp_rampup(50, 100, 0.01, 2.0) == pytest.approx(2.87e-3, rel=1e-2)
    assert exp_rampup(200, 100, 0.01, 0.5) == 0.01


# -- the segmentor -----------------------------------------------------------------------------------
def build_rccr(**kwargs):
    cfg = dict(type='RCCR', segmentor=tiny_segmentor(), ema=dict(alpha=0.99),
               projection_head=dict(type='ProjectionHead', in_channels=64, out_channels=16),
               region_contrast=dict(confidence=0.0), contrast_weight=0.01, ramp_iters=100)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def optim(model):
    return OptimWrapper(torch.optim.SGD(model.student.parameters(), lr=0.01))


def test_the_contrast_is_nonzero_with_gradients_from_the_first_iteration():
    """(The public GTA script never reaches its contrast's start iteration.)"""
    torch.manual_seed(0)
    model = build_rccr()
    grads = {}

    def record(losses, optim_wrapper, prefix):
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        if prefix == 'cut':
            params = dict(model.student.named_parameters())
            for name, g in zip(params, torch.autograd.grad(loss, list(params.values()),
                                                           retain_graph=True,
                                                           allow_unused=True)):
                grads[name] = g
        return type(model).backward(model, losses, optim_wrapper, prefix)

    model.backward = record
    log = {k: float(v) for k, v in model.train_step(paired_batch(seed=0), optim(model)).items()}
    assert log['cut.rwc'] > 0 and log['cut.loss_rwc'] == pytest.approx(
        log['cut.rwc'] * exp_rampup(0, 100, 0.01, 0.5), rel=1e-4)
    # μ(t) L_cont reaches the encoder and the projector, not the decode head
    assert grads['projection_head.convs.0.conv.weight'].abs().sum() > 0
    assert grads['backbone.stem.0.weight'].abs().sum() > 0
    assert all(g is None for n, g in grads.items() if n.startswith('decode_head'))
    assert all(p.grad is None and not p.requires_grad for p in model.teacher_model.parameters())


def test_an_iteration_under_bf16_autocast_is_finite():
    from mmseg_uda.engine.optim_wrapper import CPUAmpOptimWrapper
    torch.manual_seed(0)
    model = build_rccr()
    ow = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01))
    for i in range(2):
        log = model.train_step(paired_batch(seed=i), ow)
        assert all(torch.isfinite(torch.as_tensor(float(v))) for v in log.values())
    assert float(log['cut.rwc']) > 0
    assert all(torch.isfinite(p).all() for p in model.student.parameters())


def test_iterations_ramp_mu_fill_the_memory_and_update_the_momentum_projector():
    torch.manual_seed(0)
    model = build_rccr()
    ow = optim(model)
    logs = [model.train_step(paired_batch(seed=i), ow) for i in range(2)]
    teacher, student = model.teacher_model.projection_head, model.student.projection_head
    before = {n: p.clone() for n, p in teacher.named_parameters()}
    with torch.no_grad():  # the student's projector well away from the teacher's: α shows
        for p in student.parameters():
            p.add_(0.1 * torch.randn_like(p))
    logs.append(model.train_step(paired_batch(seed=2), ow))
    assert logs[0]['cut.rwc_weight'] < logs[1]['cut.rwc_weight'] < logs[2]['cut.rwc_weight']
    assert all(torch.isfinite(torch.as_tensor(v)) for log in logs for v in log.values())
    assert int(model.region_contrast.memory.ptr) == 3
    assert model.region_contrast.memory.get()[0].shape[0] == 3 * 2 * 16  # 3 batches, hw each
    # the teacher's projector is the EMA of the student's (Eq. 10): θ' ← α θ' + (1 − α) θ with
    # the DACS ramp α_t = min(1 − 1/(t + 1), 0.99), here t = 2
    alpha = min(1 - 1 / 3, 0.99)
    for name, p in student.named_parameters():
        torch.testing.assert_close(dict(teacher.named_parameters())[name],
                                   alpha * before[name] + (1 - alpha) * p.detach(),
                                   rtol=0, atol=1e-6)


def test_the_contrast_takes_the_teachers_labels_of_the_clean_target():
    """Step 3: ŷ_t and its confidence are the teacher's prediction on the clean target image (the
    pass DACS's pseudo-labels come from, run once), pooled to the cells; Ê_t is the momentum
    projector of that pass's features."""
    torch.manual_seed(0)
    model = build_rccr()
    tgt = model.data_preprocessor(paired_batch(seed=0), True)['inputs']['target']
    g = torch.Generator().manual_seed(1)
    known = torch.softmax(3 * torch.randn(2, NUM_CLASSES, 32, 32, generator=g), 1)
    passes, seen, expected = [], {}, {}
    teacher_probs = model.teacher_probs

    def spy(inputs, *args, **kwargs):
        probs, feats = teacher_probs(inputs, *args, **kwargs)
        passes.append(inputs)
        if not torch.equal(inputs, tgt):
            return probs, feats
        with torch.no_grad():
            expected['e_t'] = model.teacher_model.projection_head(feats)
        return known, feats
    model.teacher_probs = spy
    weight = model.student.projection_head.convs[1].weight
    model.cut_contrast_loss = lambda inputs, data_samples, **kw: seen.update(kw) \
        or {'loss_rwc': weight.sum() * 0}
    model.train_step(paired_batch(seed=0), optim(model))
    assert len(passes) == 1 and torch.equal(passes[0], tgt)
    conf, label = labels_to_grid(known, (4, 4), 'mean').max(1)
    assert torch.equal(seen['label_t'], label) and torch.equal(seen['conf'], conf)
    torch.testing.assert_close(seen['e_t'], expected['e_t'], rtol=0, atol=0)


def test_the_cut_image_pastes_target_cells_onto_the_source():
    torch.manual_seed(0)
    model = build_rccr(cut_aug=False)
    seen = {}
    weight = model.student.projection_head.convs[1].weight
    model.cut_contrast_loss = lambda inputs, data_samples, **kw: seen.update(img=inputs, **kw) \
        or {'loss_rwc': weight.sum() * 0}
    data = model.data_preprocessor(paired_batch(seed=0), True)
    src, tgt = data['inputs']['source'], data['inputs']['target']
    model.train_step(paired_batch(seed=0), optim(model))
    mask = grid_to_pixels(seen['square'], src.shape[2:])[:, None]
    torch.testing.assert_close(seen['img'], torch.where(mask, tgt, src))
    assert (seen['square'].flatten(1).sum(1) == 9).all()  # round(√8) = 3 of the 4x4 cells
    src_label = torch.stack([d.gt_sem_seg.data[0] for d in data['data_samples']['source']])
    outside = labels_to_grid(src_label, (4, 4))
    expected = torch.where(seen['square'], seen['label_t'], outside)
    assert torch.equal(seen['label_cut'], expected)


def test_without_region_contrast_it_is_dacs():
    torch.manual_seed(0)
    model = build_rccr(region_contrast=None)
    dacs = MODELS.build(dict(type='DACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99)))
    dacs.load_state_dict({k: v for k, v in model.state_dict().items() if 'projection' not in k})
    torch.manual_seed(1)
    log = model.train_step(paired_batch(seed=0), optim(model))
    torch.manual_seed(1)
    ref = dacs.train_step(paired_batch(seed=0), optim(dacs))
    assert not any(k.startswith('cut') for k in log)
    assert float(log['mix.decode.loss_ce']) == pytest.approx(float(ref['mix.decode.loss_ce']))


def test_rccr_rejects_clda_contrast():
    with pytest.raises(KeyError, match='region_contrast'):
        build_rccr(contrast=dict())



def test_state_is_identical_on_every_rank_under_ddp():
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'rccr_ddp_check.py'), 'RCCR_DDP_STATE_OK')
    assert 'state tensors equal on both ranks' in out


def test_memory_benchmark_runs(tmp_path):
    out = tmp_path / 'mem.json'
    subprocess.run([sys.executable, osp.join(REPO, 'benchmarks', 'region_contrast_memory.py'),
                    '--grid', '8', '8', '--chunks', '16', '0', '--iters', '1', '--device', 'cpu',
                    '--out', str(out)], check=True, capture_output=True, timeout=300)
    table = json.loads(out.read_text())
    assert set(table) == {'cpu:grid8x8:b2:chunk16', 'cpu:grid8x8:b2:chunkall'}
    assert all(r['anchors_per_image'] == 36 and r['keys_per_anchor'] == 64 + 3 * 2 * 64
               for r in table.values())


def test_similarities_are_float32_under_autocast():
    """L_cont (positive and chunked negatives, NS(R) and the 3-batch memory included) under bf16
    autocast equals the float32 loss and gradients to 1e-6, for float32 and bf16 embeddings."""
    import copy

    from test_contrastive_losses import amp_equals_float32
    e_cut, e_t, square, conf, label_t, label_cut = random_case()
    prior = RegionContrast(dim=8, confidence=0.2, chunk_size=5)
    torch.manual_seed(0)
    prior(*random_case(seed=1))  # one batch in the memory

    def loss(e_cut, e_t):
        torch.manual_seed(1)
        return copy.deepcopy(prior)(e_cut, e_t, square, conf, label_t, label_cut)
    amp_equals_float32(loss, e_cut, e_t)
