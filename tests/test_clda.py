"""CLDA (models/segmentors/clda.py): the self-training iteration on tiny tensors."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from test_dacs import NUM_CLASSES, optim, paired_batch, tiny_segmentor


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
    """Source labels in 8x8 blocks, so feature cells (stride 8) are pure."""
    batch = paired_batch(b=b, seed=seed)
    g = torch.Generator().manual_seed(seed)
    for ds in batch['source']['data_samples']:
        label = torch.randint(0, NUM_CLASSES, (1, 1, 4, 4), generator=g).float()
        ds.gt_sem_seg.data = F.interpolate(label, size=(32, 32), mode='nearest')[0].long()
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
    model = build_clda(pseudo_scales=(1.0, ), label_expansion=dict(max_distance=2.0))
    pseudo, confident, _ = model.pseudo_labels(x)
    assert (pseudo != 255).all()  # every pixel is within the (huge) radius of some prototype
    assert torch.equal(pseudo[confident != 255], confident[confident != 255])


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
    model.student_pass(src, None, tgt, label, label, label, torch.ones(2, 1, 32, 32))
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


def test_clda_dacs_adds_the_contrast_to_dacs():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='DACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99), pseudo_threshold=1e-6,
        projection_head=dict(type='ProjectionHead', in_channels=64, out_channels=16),
        contrast=dict(anchors_per_class=50, memory_size=20, enqueue_per_class=5)))
    model.init_weights()
    ow = optim(model)
    logs = [model.train_step(blocky_batch(i), ow) for i in range(2)]
    assert {'src.loss_in_src', 'src.loss_cross', 'mix.loss_in_tgt'} <= set(logs[1])
    assert all(torch.isfinite(torch.as_tensor(v)).all() for log in logs for v in log.values())
    contrast = model.contrast
    # L_cross of iteration 2 reads the target prototypes of iteration 1 (it is 0 when they are
    # all of one class, which has no negative; the value is tested in test_domain_contrast.py)
    assert logs[1]['src.loss_cross'] >= 0
    assert contrast.target_protos.count.sum() > 0 and contrast.source_pixels.count.sum() > 0
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
