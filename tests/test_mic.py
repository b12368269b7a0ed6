"""MIC (Hoyer et al., CVPR 2023) as a module of the DACS family: block masks, the masked view and
the masked consistency loss L_m = λ_m · mean(q · CE(f_θ(M ⊙ aug(x_T)), ŷ_T)) (Eq. 5–7)."""
import math

import pytest
import torch
import torch.nn.functional as F
from test_dacs import CountingOptimWrapper, H, W, build_dacs, paired_batch

from mmseg_uda.models.utils.global_batch import global_batch
from mmseg_uda.models.utils.masking import MaskedConsistency, block_masks

NO_AUG = dict(block_size=8, ratio=0.7, color_aug=None)


def test_block_masks_are_constant_blocks_with_the_masked_share():
    torch.manual_seed(0)
    m = block_masks(64, (30, 44), block_size=8, ratio=0.7)
    assert m.shape == (64, 1, 30, 44) and set(m.unique().tolist()) <= {0.0, 1.0}
    blocks = m[:, 0, ::8, ::8]  # each 8x8 block (cut at the border) holds one value
    up = blocks.repeat_interleave(8, 1).repeat_interleave(8, 2)[:, :30, :44]
    assert torch.equal(up, m[:, 0])
    assert abs(1 - blocks.mean().item() - 0.7) < 0.03  # 64 images x 4 x 6 blocks


def test_block_masks_are_drawn_for_the_global_batch():
    """Rows 2-3 of a draw for 4 images are what a rank holding images 2-3 draws."""
    with global_batch(4, seed=5):
        whole = block_masks(4, (16, 16), 4, 0.5)
    from mmseg_uda.models.utils import global_batch as gb
    with global_batch(4, seed=5):  # pretend to be the second of two ranks of 2 images
        batch = gb.current()
        batch.local, batch.offset = 2, 2
        part = block_masks(2, (16, 16), 4, 0.5)
    assert torch.equal(part, whole[2:])


def test_masked_view_zeroes_the_masked_blocks_in_the_normalised_space():
    mic = MaskedConsistency('DACS', [0.] * 3, [1.] * 3, **NO_AUG)
    torch.manual_seed(1)
    img = torch.randn(2, 3, 32, 32) + 5
    out = mic(img)
    kept = out != 0
    assert torch.equal(out[kept], img[kept])
    assert 0.1 < 1 - kept.float().mean().item() < 0.99


@pytest.mark.parametrize('cfg,message', [
    (dict(ratio=1.0), r'masked_consistency.ratio must be in \[0, 1\), got 1.0'),
    (dict(block_size=0), 'masked_consistency.block_size must be an integer >= 1, got 0'),
    (dict(loss_weight=-1), 'masked_consistency.loss_weight must be >= 0, got -1'),
    (dict(mask_ratio=0.7), r"unknown keys \['mask_ratio'\] in model.masked_consistency"),
    (dict(images='source'), r"masked_consistency.images must be 'target' or 'source_and_target'")])
def test_bad_keys_are_refused_at_build(cfg, message):
    with pytest.raises((ValueError, KeyError), match=message):
        build_dacs(masked_consistency=cfg)


@pytest.mark.parametrize('images', ['target', 'source_and_target'])
def test_masked_loss_is_lambda_times_mean_of_q_ce_against_the_teachers_labels(monkeypatch, images):
    """The logged L_m equals Eq. 7 recomputed from the student of the iteration's start, the
    captured masked image, and the teacher's pseudo-labels / weights of the complete target; with
    ``images='source_and_target'`` (MIC's ACDC / Dark Zurich mode) image 0 of the masked batch is
    the source image with its labels (weight 1) and image 1 the target image."""
    torch.manual_seed(0)
    cfg = dict(NO_AUG, loss_weight=0.5, images=images)
    model = build_dacs(masked_consistency=cfg, pseudo_threshold=0.01)
    model.teacher.steps.fill_(5)
    captured = {}
    real_mic, real_images_of = model.mic.__call__, model.mic.images_of

    def spy(img):
        captured['picked'], captured['masked'] = img.clone(), real_mic(img)
        return captured['masked']

    def images_spy(src_img, src_label, tgt_img, *rest):
        captured.update(source=src_img.clone(), source_label=src_label.clone(),
                        target=tgt_img.clone())
        return real_images_of(src_img, src_label, tgt_img, *rest)
    monkeypatch.setattr(type(model.mic), '__call__', lambda self, img: spy(img))
    monkeypatch.setattr(model.mic, 'images_of', images_spy)
    with torch.no_grad():  # a teacher unlike the student: the labels must be the teacher's
        model.teacher_model.decode_head.conv_seg.bias.add_(torch.tensor([0., 0., 0.3, 0.]))
    student0 = {k: v.clone() for k, v in model.student.state_dict().items()}
    teacher0 = {k: v.clone() for k, v in model.teacher_model.state_dict().items()}
    ow = CountingOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    log_vars = model.train_step(paired_batch(), ow)
    assert ow.calls == dict(step=1, backward=3, zero_grad=1)  # source, mixed, masked
    # the teacher's labels / weights of the clean target (the teacher before its update)
    ref = build_dacs(masked_consistency=cfg, pseudo_threshold=0.01)
    ref.student.load_state_dict(student0)
    ref.teacher_model.load_state_dict(teacher0)
    with torch.no_grad():
        label, weight, _ = ref.pseudo_labels(ref.teacher_probs(captured['target'])[0])
        logits = F.interpolate(ref.student.decode_head(ref.student.extract_feat(
            captured['masked'])), (H, W), mode='bilinear', align_corners=False)
    picked = captured['target']
    if images == 'source_and_target':
        picked = torch.stack([captured['source'][0], captured['target'][1]])
        label = torch.stack([captured['source_label'][0], label[1]])
        weight = torch.stack([torch.ones_like(weight[0]), weight[1]])
        assert not torch.equal(label[0], label[1])
    assert torch.equal(captured['picked'], picked)
    ce = F.cross_entropy(logits, label, ignore_index=255, reduction='none')
    expected = 0.5 * (weight * ce).mean()
    assert weight.mean() > 0.5 and expected > 0.1  # confident: the loss is not trivially 0
    assert math.isclose(float(log_vars['masked.decode.loss_ce']), float(expected), rel_tol=1e-4)
    with torch.no_grad():
        student_label = ref.student.decode_head(ref.student.extract_feat(captured['target']))
    assert not torch.equal(label, F.interpolate(student_label, (H, W), mode='bilinear').argmax(1))
    assert (captured['masked'] == 0).any()
    assert 'masked_img' in model.debug_output


def test_masked_loss_gradient_reaches_the_student_only(monkeypatch):
    """L_m's own backward pass (measured alone) reaches the student's backbone and head, and
    nothing of the EMA teacher, whose pseudo-labels it learns."""
    torch.manual_seed(0)
    model = build_dacs(masked_consistency=NO_AUG, pseudo_threshold=0.01)
    model.teacher.steps.fill_(5)
    real_backward, grads = model.backward, {}

    def spy(losses, optim_wrapper, prefix):
        if prefix != 'masked':
            return real_backward(losses, optim_wrapper, prefix)
        optim_wrapper.zero_grad()
        out = real_backward(losses, optim_wrapper, prefix)
        grads.update(student={n: None if p.grad is None else p.grad.clone()
                              for n, p in model.student.named_parameters()},
                     teacher=[p.grad for p in model.teacher_model.parameters()])
        return out
    monkeypatch.setattr(model, 'backward', spy)
    ow = CountingOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    model.train_step(paired_batch(), ow)
    for part in ('backbone.', 'decode_head.'):
        assert any(g is not None and g.abs().sum() > 0 for n, g in grads['student'].items()
                   if n.startswith(part)), part
    assert all(g is None for g in grads['teacher'])


def test_source_and_target_alternate_over_the_global_batch():
    """Even positions of the global batch are source images, odd ones target images, whichever
    rank holds them: rank 1 of 2 ranks with 2 images each holds positions 2 (source) and 3."""
    from mmseg_uda.models.utils import global_batch as gb
    mic = MaskedConsistency('DACS', [0.] * 3, [1.] * 3, **NO_AUG, images='source_and_target')
    src, tgt = torch.zeros(2, 3, 4, 4), torch.ones(2, 3, 4, 4)
    src_label = torch.zeros(2, 4, 4, dtype=torch.long)
    pseudo = torch.ones(2, 4, 4, dtype=torch.long)
    q = torch.full((2, 4, 4), 0.5)
    with global_batch(2, seed=0):
        batch = gb.current()
        batch.offset, batch.total = 2, 4
        img, label, weight = mic.images_of(src, src_label, tgt, pseudo, q)
    assert img[:, 0, 0, 0].tolist() == [0., 1.] and label[:, 0, 0].tolist() == [0, 1]
    assert weight[:, 0, 0].tolist() == [1., 0.5]
    with pytest.raises(ValueError, match="images='source_and_target' needs source and target"):
        mic.images_of(src[:, :, :2], src_label, tgt, pseudo, q)


def test_without_mic_nothing_changes():
    """masked_consistency=None: two backward passes and no masked keys (the DACS iteration)."""
    torch.manual_seed(0)
    model = build_dacs()
    ow = CountingOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    log_vars = model.train_step(paired_batch(), ow)
    assert ow.calls['backward'] == 2 and not any(k.startswith('masked.') for k in log_vars)


@pytest.mark.parametrize('method', ['RCCR', 'T2SDA', 'CONFETI', 'SDCADACS'])
def test_every_dacs_family_method_composes_mic(method):
    """One iteration of each DACS-family method with MIC: L_m is logged, finite, and trained."""
    torch.manual_seed(0)
    if method == 'CONFETI':
        from test_confeti import build_confeti, optim
        model = build_confeti(masked_consistency=NO_AUG)
        model.teacher.steps.fill_(5)
        ow = optim(model)
    else:
        builders = dict(RCCR=('test_rccr', 'build_rccr', {}), T2SDA=('test_t2sda', 'build_t2sda', {}),
                        SDCADACS=('test_sdca', 'build_sdca', dict(type='SDCADACS',
                                                                   ema=dict(alpha=0.99))))
        module, name, extra = builders[method]
        model = getattr(__import__(module), name)(masked_consistency=NO_AUG, **extra)
        ow = CountingOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    log_vars = model.train_step(paired_batch(), ow)
    assert type(model).__name__ == method
    assert math.isfinite(float(log_vars['masked.decode.loss_ce']))


def test_amp_iteration_with_mic_is_finite():
    from mmseg_uda.engine import CPUAmpOptimWrapper
    torch.manual_seed(0)
    model = build_dacs(masked_consistency=dict(block_size=8))
    ow = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01))
    log_vars = model.train_step(paired_batch(), ow)
    assert all(math.isfinite(float(v)) for v in log_vars.values())
    assert 'masked.decode.loss_ce' in log_vars
