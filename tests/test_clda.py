"""CLDA (models/segmentors/clda.py): the self-training iteration on tiny tensors."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from test_dacs import NUM_CLASSES, optim, paired_batch, tiny_segmentor

from mmseg_uda.models.utils.label_expansion import LabelExpansion


def build_clda(**kwargs):
    cfg = dict(type='CLDA', segmentor=tiny_segmentor(),
               projection_head=dict(type='ProjectionHead', in_channels=64, out_channels=16),
               ema=dict(alpha=0.0, buffers='copy', interval=2), pseudo_scales=(0.5, 1.0),
               contrast=dict(anchors_per_class=50, memory_size=20, enqueue_per_class=5))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def blocky_batch(seed, b=2):
    """Source labels constant on the stride-8 feature cells (the pixels nearest to position j,
    on pixel 8j: rows and columns [0, 4), [4, 12), [12, 20), [20, 32)), so every cell is pure."""
    batch = paired_batch(b=b, seed=seed)
    g = torch.Generator().manual_seed(seed)
    cell = ((torch.arange(32) + 4) // 8).clamp(max=3)
    for ds in batch['source']['data_samples']:
        label = torch.randint(0, NUM_CLASSES, (1, 1, 4, 4), generator=g)[0, 0]
        ds.gt_sem_seg.data = label[cell][:, cell][None]
    return batch


def test_iterations_fill_the_memories_and_refresh_the_teacher():
    torch.manual_seed(0)
    model = build_clda()
    ow = optim(model)
    logs = [model.train_step(blocky_batch(i), ow) for i in range(3)]
    for log in logs:
        assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values())
    assert logs[-1]['clda.loss_in_src'] > 0  # source keys exist from the 2nd iteration
    assert model.contrast.source_pixels.count.sum() > 0 and model.contrast.source_protos.count.sum() > 0
    # hard copy at calls 0 and 2: the teacher equals the student after the 3rd step
    for (n, p), q in zip(model.student.named_parameters(), model.teacher_model.parameters()):
        assert torch.equal(p, q), n
    # the expansion window was reset at that refresh
    assert model.expansion.totals.sum() == 0
    # cross-iteration state is in the checkpoint and loads back
    state = model.state_dict()
    assert {'contrast.source_pixels.keys', 'contrast.target_protos.count', 'expansion.sums',
            'teacher.steps'} <= set(state)
    fresh = build_clda()
    fresh.load_state_dict(state)
    assert torch.equal(fresh.contrast.source_pixels.keys, model.contrast.source_pixels.keys)
    assert int(fresh.teacher.steps) == 3


def test_pseudo_labels_thresholds_and_expansion():
    model = build_clda(pseudo_scales=(1.0, ), label_expansion=None)
    x = torch.randn(2, 3, 32, 32)
    pseudo, confident, omega = model.pseudo_labels(x)
    probs, _ = model.teacher_probs(x)
    conf, pred = probs.max(1)
    # every predicted class keeps its most confident pixels (class-adaptive threshold)
    for c in pred.unique():
        assert (confident[pred == c] != 255).any()
    assert torch.equal(pseudo, confident)  # no expansion
    torch.testing.assert_close(omega[:, 0], conf)


def test_label_expansion_relabels_exactly_the_cells_within_max_distance():
    """§5.3 with a cutoff between the unconfident cells' distances: the cells within it take the
    nearest ω-weighted teacher prototype's class (cosine distance, computed here literally), the
    others stay ignored, confident pixels keep their label."""
    torch.manual_seed(0)
    model = build_clda(pseudo_scales=(1.0, ), label_expansion=dict(max_distance=2.0))
    x = torch.randn(2, 3, 32, 32)
    seen = {}
    expansion = model.expansion.forward

    def spy(feats, pred, weight, confident):
        seen.update(feats=feats, pred=pred, weight=weight, confident=confident)
        return expansion(feats, pred, weight, confident)
    model.expansion.forward = spy
    model.pseudo_labels(x)
    g = F.normalize(seen['feats'].float(), dim=1).permute(0, 2, 3, 1)  # (B, h, w, D)
    pred, weight, conf_cell = seen['pred'], seen['weight'], seen['confident']
    protos = {}
    for c in pred[conf_cell].unique().tolist():
        sel = conf_cell & (pred == c)
        protos[c] = F.normalize((weight[sel][:, None] * g[sel]).sum(0), dim=0)
    classes = sorted(protos)
    dist = torch.stack([1 - g @ protos[c] for c in classes], -1)  # (B, h, w, K)
    nearest_d, k = dist.min(-1)
    nearest = torch.tensor(classes)[k]
    cutoff = nearest_d[~conf_cell].median().item()  # excludes about half of the candidates
    model.expansion.reset()
    model.expansion.max_distance = cutoff
    pseudo, confident_label, _ = model.pseudo_labels(x)
    within = nearest_d <= cutoff
    assert within[~conf_cell].any() and not within[~conf_cell].all()
    confident = confident_label != 255
    expected, _ = LabelExpansion.expand(confident_label, confident, nearest, within)
    assert torch.equal(pseudo, expected)
    assert (pseudo[~confident] != 255).any() and (pseudo[~confident] == 255).any()


def test_ablation_switches_and_no_contrast():
    for contrast in (dict(in_domain=False, cross_domain=False), dict(weight=0.0), None):
        model = build_clda(contrast=contrast)
        log = model.train_step(blocky_batch(0), optim(model))
        assert not any('loss_in' in k or 'loss_cross' in k for k in log)
    model = build_clda(contrast=dict(cross_domain=False))
    log = model.train_step(blocky_batch(0), optim(model))
    assert 'clda.loss_in_src' in log and 'clda.loss_cross' not in log
    with pytest.raises(KeyError, match=r"unknown augment keys \['unknown'\]"):
        build_clda(augment=dict(unknown=1))


def test_contrastive_gradients_reach_backbone_and_projection_only():
    torch.manual_seed(0)
    model = build_clda()
    batch = model.data_preprocessor(blocky_batch(0), True)
    src, tgt = batch['inputs']['source'], batch['inputs']['target']
    from mmseg_uda.models.segmentors.uda_base import pixel_labels
    label = pixel_labels(batch['data_samples']['source'])
    # warm the memories once, then take the contrastive terms alone
    warm = model.student_pass(src, None, tgt, label, label, label, torch.ones(2, 1, 32, 32))
    model.contrast.update_memories(warm['memory_update'])
    losses = model.student_pass(src, None, tgt, label, label, label, torch.ones(2, 1, 32, 32))
    contrast = losses['loss_in_src'] + losses['loss_in_tgt'] + losses['loss_cross']
    assert contrast > 0
    contrast.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None and g.abs().sum() > 0 for n, g in grads.items()
               if n.startswith('student.projection_head'))
    assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items()
               if n.startswith('student.backbone'))
    assert all(g is None or g.abs().sum() == 0 for n, g in grads.items()
               if n.startswith('student.decode_head') or n.startswith('teacher'))


def record_backward_and_memory_updates(model, optim_wrapper):
    """The order of the backward passes and the contrast's memory updates, as a list."""
    calls = []
    backward, update = optim_wrapper.backward, model.contrast.update_memories
    optim_wrapper.backward = lambda *a, **k: calls.append('backward') or backward(*a, **k)
    model.contrast.update_memories = lambda *a: calls.append('update_memories') or update(*a)
    return calls


def cross_domain_literal(emb, cells, keys, tau):
    """CLDA Eq. 1/6 written out: every labelled cell of ``emb`` (B, D, h, w) (labels ``cells``)
    is an anchor against ``keys`` (one per class, class k = row k): −log e^{a·k⁺/τ} /
    (e^{a·k⁺/τ} + Σ_{k⁻} e^{a·k⁻/τ}), averaged over the anchors."""
    terms = []
    for a, c in zip(emb.permute(0, 2, 3, 1).reshape(-1, emb.shape[1]).tolist(),
                    cells.flatten().tolist()):
        if c == 255:
            continue
        sims = [sum(x * y for x, y in zip(a, k)) / tau for k in keys.tolist()]
        terms.append(-sims[c] + math.log(sum(math.exp(s) for s in sims)))
    return sum(terms) / len(terms)


def test_clda_dacs_adds_the_contrast_to_dacs():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='DACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99), pseudo_threshold=1e-6,
        projection_head=dict(type='ProjectionHead', in_channels=64, out_channels=16),
        contrast=dict(anchors_per_class=50, memory_size=20, enqueue_per_class=5, weight=0.5,
                      tau=1.0)))
    model.init_weights()
    ow = optim(model)
    calls = record_backward_and_memory_updates(model, ow)
    logs = [model.train_step(blocky_batch(0), ow)]
    assert calls == ['backward', 'backward', 'update_memories']  # after both passes
    contrast = model.contrast
    assert contrast.target_protos.count.sum() > 0 and contrast.source_pixels.count.sum() > 0
    # L_cross of the next iteration: its source anchors against the target prototype memory as
    # the last iteration left it (the mixed pass's prototypes come after the source pass); one
    # known key per class is put there so that every anchor has negatives
    keys = F.normalize(torch.randn(NUM_CLASSES, 16), dim=1)
    contrast.target_protos.count.zero_()
    contrast.target_protos.ptr.zero_()
    contrast.update_memories(dict(target_protos=(keys, torch.arange(NUM_CLASSES))))
    embeddings = []
    project = model.student.projection_head.forward
    model.student.projection_head.forward = lambda feats: embeddings.append(project(feats)) \
        or embeddings[-1]
    logs.append(model.train_step(blocky_batch(1), ow))
    assert {'src.loss_in_src', 'src.loss_cross', 'mix.loss_in_tgt'} <= set(logs[1])
    assert all(torch.isfinite(torch.as_tensor(v)).all() for log in logs for v in log.values())
    batch = model.data_preprocessor(blocky_batch(1), True)
    cells = torch.stack([ds.gt_sem_seg.data[0, ::8, ::8] for ds in batch['data_samples']['source']])
    expected = cross_domain_literal(embeddings[0].detach(), cells, keys, tau=1.0)
    assert expected > 0.1
    cross = torch.as_tensor(logs[1]['src.loss_cross']).detach()
    assert cross.item() == pytest.approx(0.5 * expected, rel=1e-5)
    assert 'contrast.target_protos.keys' in model.state_dict()
    assert model.teacher_model.projection_head is not None
    with pytest.raises(KeyError, match='projection_head'):
        MODELS.build(dict(type='DACS', segmentor=tiny_segmentor(), contrast=dict()))


def test_amp_steps_are_finite():
    from mmseg_uda.engine import CPUAmpOptimWrapper
    torch.manual_seed(0)
    model = build_clda()
    ow = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01))
    for i in range(2):
        log = model.train_step(blocky_batch(i), ow)
        assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values()), log
    assert model.contrast.source_pixels.keys.dtype == torch.float32
    assert all(torch.isfinite(p).all() for p in model.student.parameters())


@pytest.mark.parametrize('fill', [255, 2], ids=['all-ignore', 'single-class'])
def test_degenerate_source_labels_give_finite_steps(fill):
    torch.manual_seed(0)
    model = build_clda()
    ow = optim(model)
    for i in range(2):
        batch = blocky_batch(i)
        for ds in batch['source']['data_samples']:
            ds.gt_sem_seg.data.fill_(fill)
        log = model.train_step(batch, ow)
        assert all(torch.isfinite(torch.as_tensor(v)).all() for v in log.values()), log
    assert all(torch.isfinite(p).all() for p in model.student.parameters())


def test_projection_warmup_keeps_the_contrast_out_of_the_backbone():
    torch.manual_seed(0)
    model = build_clda(projection_warmup=1)
    batch = model.data_preprocessor(blocky_batch(0), True)
    src, tgt = batch['inputs']['source'], batch['inputs']['target']
    from mmseg_uda.models.segmentors.uda_base import pixel_labels
    label = pixel_labels(batch['data_samples']['source'])
    for warm in (True, False):
        model.zero_grad()
        model.teacher.steps.fill_(0 if warm else 1)
        losses = model.student_pass(src, None, tgt, label, label, label, torch.ones(2, 1, 32, 32))
        (losses['loss_in_src'] + losses['loss_in_tgt'] + losses['loss_cross']).backward()
        backbone = sum(p.grad.abs().sum() for n, p in model.student.named_parameters()
                       if n.startswith('backbone') and p.grad is not None)
        assert model.student.projection_head.convs[-1].weight.grad.abs().sum() > 0
        assert (backbone == 0) == warm


def test_the_memories_are_updated_after_the_backward_pass():
    """Step 7 of the iteration: the student pass reads the memories and leaves them; the update
    comes after the backward pass, with what the pass returned."""
    torch.manual_seed(0)
    model = build_clda(tau0=1e-6)  # every target pixel confident: pure target cells exist
    ow = optim(model)
    calls = record_backward_and_memory_updates(model, ow)
    model.train_step(blocky_batch(0), ow)
    assert calls == ['backward', 'update_memories']
    counts = [b.count.clone() for b in (model.contrast.source_pixels, model.contrast.source_protos,
                                        model.contrast.target_protos)]
    assert all(c.sum() > 0 for c in counts)
    batch = model.data_preprocessor(blocky_batch(1), True)
    src, tgt = batch['inputs']['source'], batch['inputs']['target']
    from mmseg_uda.models.segmentors.uda_base import pixel_labels
    label = pixel_labels(batch['data_samples']['source'])
    losses = model.student_pass(src, None, tgt, label, label, label, torch.ones(2, 1, 32, 32))
    assert all(torch.equal(b.count, c) for b, c in zip(
        (model.contrast.source_pixels, model.contrast.source_protos,
         model.contrast.target_protos), counts))
    assert set(losses['memory_update']) == {'target_protos', 'source_pixels', 'source_protos'}
