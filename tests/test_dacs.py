"""DACS and its shared pieces (EMA teacher, ClassMix, confidence weight) on small tensors."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_uda.models.utils.ema import EMATeacher
from mmseg_uda.models.utils.mixing import blur_kernel_size, classmix_masks

NUM_CLASSES = 4
H, W = 32, 32


def tiny_segmentor(**head):
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='UDADataPreProcessor', mean=[120., 110., 100.],
                               std=[50., 50., 50.], bgr_to_rgb=True, size=(H, W)),
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8,
                      dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), contract_dilation=True,
                      norm_cfg=dict(type='BN')),
        decode_head=dict(type='FCNHead', in_channels=64, in_index=3, channels=16, num_convs=1,
                         concat_input=False, num_classes=NUM_CLASSES, dropout_ratio=0.,
                         norm_cfg=dict(type='BN'), **head),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def build_uda(**cfg):
    """A UDA segmentor from its config, initialised (the teacher a copy of the student)."""
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def build_dacs(**kwargs):
    return build_uda(**{**dict(type='DACS', segmentor=tiny_segmentor(), ema=dict(alpha=0.99)),
                        **kwargs})


def sample(label=None, size=(H, W)):
    ds = SegDataSample()
    ds.set_metainfo(dict(img_shape=size, ori_shape=size, pad_shape=size))
    if label is not None:
        ds.gt_sem_seg = PixelData(data=label[None])
    return ds


def paired_batch(b=2, seed=0, size=(H, W), num_classes=NUM_CLASSES):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, (b, *size), generator=g)
    labels[:, :4] = 255

    def imgs():
        return [torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8)
                for _ in range(b)]
    return dict(source=dict(inputs=imgs(), data_samples=[sample(lab, size) for lab in labels]),
                target=dict(inputs=imgs(), data_samples=[sample(size=size) for _ in range(b)]))


class CountingOptimWrapper(OptimWrapper):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = dict(step=0, backward=0, zero_grad=0)

    def step(self, **kwargs):
        self.calls['step'] += 1
        super().step(**kwargs)

    def backward(self, loss, **kwargs):
        self.calls['backward'] += 1
        super().backward(loss, **kwargs)

    def zero_grad(self, **kwargs):
        self.calls['zero_grad'] += 1
        super().zero_grad(**kwargs)


def optim(model, lr=0.01):
    return CountingOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=lr))


# -- EMA -----------------------------------------------------------------------------------------
def test_ema_ramp_values():
    ema = EMATeacher(torch.nn.Linear(1, 1), alpha=0.99)
    assert [ema.momentum(t) for t in (0, 1, 3, 9)] == [0, 0.5, 0.75, 0.9]
    assert ema.momentum(10 ** 6) == 0.99


def test_ema_update_follows_the_ramp():
    student = torch.nn.Linear(1, 1, bias=False)
    ema = EMATeacher(student, alpha=0.6)
    values = [2.0, 4.0, 8.0, 16.0]
    expected = None
    for t, v in enumerate(values):
        student.weight.data.fill_(v)
        ema.update_parameters(student)
        a = min(1 - 1 / (t + 1), 0.6)
        expected = v if expected is None else a * expected + (1 - a) * v
        assert ema.module.weight.item() == pytest.approx(expected)
    assert int(ema.steps) == 4 and not ema.module.weight.requires_grad


@pytest.mark.parametrize('mode,expected', [('keep', 0.0), ('copy', 1.0), ('ema', 0.5)])
def test_ema_buffer_modes(mode, expected):
    student = torch.nn.BatchNorm1d(1)
    ema = EMATeacher(student, alpha=0.5, buffers=mode)
    ema.update_parameters(student)  # t=0: parameters copied, buffers as the mode says
    student.running_mean.fill_(1.0)
    student.num_batches_tracked.fill_(7)
    ema.update_parameters(student)  # t=1: α=0.5
    assert ema.module.running_mean.item() == pytest.approx(expected)
    assert int(ema.module.num_batches_tracked) == (0 if mode == 'keep' else 7)


def test_ema_hard_copy_every_interval():
    """CLDA's teacher: a copy of the student (buffers included) every `interval` calls."""
    student = torch.nn.BatchNorm1d(1)
    ema = EMATeacher(student, alpha=0.0, buffers='copy', interval=3)
    seen = []
    for t in range(7):
        student.weight.data.fill_(float(t))
        student.running_mean.fill_(float(t))
        ema.update_parameters(student)
        seen.append((ema.module.weight.item(), ema.module.running_mean.item()))
    assert seen == [(0, 0), (0, 0), (0, 0), (3, 3), (3, 3), (3, 3), (6, 6)]
    assert int(ema.steps) == 7
    with pytest.raises(ValueError, match='interval'):
        EMATeacher(student, interval=0)


# -- ClassMix ------------------------------------------------------------------------------------
def test_classmix_pastes_exactly_half_of_each_images_classes():
    torch.manual_seed(0)
    labels = torch.tensor([[[0, 0, 1, 1], [2, 2, 255, 255]],   # 4 values incl. ignore -> 2
                           [[3, 3, 3, 3], [3, 3, 3, 3]],       # 1 class -> 1
                           [[0, 1, 2, 0], [1, 2, 0, 1]]])      # 3 classes -> 2
    for _ in range(20):
        masks = classmix_masks(labels, NUM_CLASSES)
        for lab, m, n_chosen in zip(labels, masks, (2, 1, 2)):
            chosen = set(lab[m].tolist())
            assert len(chosen) == n_chosen
            assert not (set(lab[~m].tolist()) & chosen)  # whole classes, nothing else
    # the ignore label is a candidate, as in DACS and DAFormer
    seen = {255 in set(labels[0][m].tolist()) for m in
            (classmix_masks(labels, NUM_CLASSES)[0] for _ in range(50))}
    assert seen == {True, False}


def test_classmix_batch_scope_draws_from_the_union():
    # image 0 holds only class 0; the batch holds {0, 1, 2}: per image (DACS) class 0 is always
    # pasted, with batch candidates (DAFormer) 2 of the 3 union classes are drawn per image: p = 2/3
    labels = torch.tensor([[[0, 0], [0, 0]], [[1, 1], [2, 2]]])
    torch.manual_seed(1)
    n = 600
    image = sum(classmix_masks(labels, NUM_CLASSES)[0].all().item() for _ in range(n)) / n
    batch = sum(classmix_masks(labels, NUM_CLASSES, 'batch')[0].all().item() for _ in range(n)) / n
    assert image == 1.0
    assert abs(batch - 2 / 3) < 0.06
    with pytest.raises(ValueError, match='scope'):
        classmix_masks(labels, NUM_CLASSES, 'dataset')


def test_blur_kernel_size():
    assert (blur_kernel_size(512), blur_kernel_size(640), blur_kernel_size(1024)) == (51, 63, 103)


# -- confidence weight and pseudo-labels ---------------------------------------------------------
def pseudo_labels_of(model, logits):
    return model.pseudo_labels(logits.softmax(1))


def test_confidence_weight_per_batch_and_per_image():
    model = build_dacs()
    logits = torch.zeros(2, NUM_CLASSES, H, W)
    logits[0, 1, :8] = 20.0   # image 0: a quarter of the pixels confident (class 1)
    logits[1, 2] = 20.0       # image 1: all confident (class 2)
    label, weight, _ = pseudo_labels_of(model, logits)
    assert label[1].unique().tolist() == [2] and label[0, :8].unique().tolist() == [1]
    assert torch.allclose(weight, torch.full_like(weight, (0.25 + 1.0) / 2))
    model.pseudo_weight_scope = 'image'
    _, weight, _ = pseudo_labels_of(model, logits)
    assert weight[0].unique().tolist() == [0.25] and weight[1].unique().tolist() == [1.0]


def test_ignored_rows_get_zero_weight():
    model = build_dacs(pseudo_weight_ignore_top=3, pseudo_weight_ignore_bottom=5)
    logits = torch.zeros(1, NUM_CLASSES, H, W).index_fill_(1, torch.tensor([0]), 20.)
    _, weight, _ = pseudo_labels_of(model, logits)
    assert weight[0, :3].sum() == 0 and weight[0, -5:].sum() == 0
    assert (weight[0, 3:-5] == 1).all()  # q is counted over all pixels before the crop


def test_pseudo_labels_come_from_the_teacher_without_gradients():
    model = build_dacs()
    with torch.no_grad():
        model.teacher_model.decode_head.conv_seg.bias.copy_(torch.tensor([0., 0., 50., 0.]))
    data = model.data_preprocessor(paired_batch(), True)
    label, weight, _ = model.pseudo_labels(model.teacher_probs(data['inputs']['target'])[0])
    assert (label == 2).all() and (weight == 1).all()
    assert not label.requires_grad and not weight.requires_grad
    student_label = model.student.encode_decode(
        data['inputs']['target'], [s.metainfo for s in data['data_samples']['target']]).argmax(1)
    assert not (student_label == 2).all()


# -- losses --------------------------------------------------------------------------------------
def test_weighted_loss_is_the_pixel_mean_of_w_times_ce():
    model = build_dacs()
    x = torch.randn(2, 3, H, W)
    labels = torch.randint(0, NUM_CLASSES, (2, H, W))
    labels[0, :5] = 255
    weights = torch.rand(2, H, W)
    losses = model.weighted_loss(x, None, labels, weights)
    logits = F.interpolate(model.student.decode_head(model.student.extract_feat(x)), (H, W),
                           mode='bilinear', align_corners=False)
    ce = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    torch.testing.assert_close(losses['decode.loss_ce'], (weights * ce).mean())


def test_feature_distance_mask_and_empty_mask():
    model = build_dacs(imnet_feature_dist=dict(classes=(3, ), lambda_=0.5))
    x = torch.randn(1, 3, H, W)
    feat = model.student.extract_feat(x)[-1]
    no_things = torch.zeros(1, H, W, dtype=torch.long)
    loss = model.feature_distance(x, feat, no_things)
    assert loss.item() == 0 and not torch.isnan(loss)
    things = no_things.clone()
    things[:, :, :W // 2] = 3  # left half: thing class 3
    things[:, 0, 0] = 255
    loss = model.feature_distance(x, feat, things)
    with torch.no_grad():
        d = torch.norm(feat - model.imnet.extract_feat(x)[-1], dim=1)[0]
    expected = 0.5 * d[:, :feat.shape[-1] // 2].mean()
    torch.testing.assert_close(loss, expected)


# -- the iteration -------------------------------------------------------------------------------
def test_one_optimiser_step_and_teacher_update_per_iteration():
    torch.manual_seed(0)
    model = build_dacs()
    ow = optim(model)
    teacher_before = copy.deepcopy(model.teacher_model.state_dict())
    log_vars = model.train_step(paired_batch(), ow)
    assert ow.calls == dict(step=1, backward=2, zero_grad=1)
    for key in ('src.loss', 'src.decode.loss_ce', 'mix.decode.loss_ce', 'mix.pseudo_weight'):
        assert key in log_vars and math.isfinite(float(log_vars[key]))
    assert all(p.grad is None for p in model.teacher_model.parameters())
    # first update (α_0 = 0): the teacher is the stepped student
    for (name, t), s in zip(model.teacher_model.named_parameters(), model.student.parameters()):
        assert torch.equal(t, s), name
    assert not torch.equal(teacher_before['decode_head.conv_seg.weight'],
                           model.teacher_model.decode_head.conv_seg.weight)
    assert set(model.debug_output) >= {'source_img', 'pseudo_label', 'mixed_img', 'mix_mask'}


def test_amp_iteration_on_cpu():
    from mmseg_uda.engine import CPUAmpOptimWrapper
    torch.manual_seed(0)
    model = build_dacs()
    ow = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01))
    log_vars = model.train_step(paired_batch(), ow)
    assert all(math.isfinite(float(v)) for v in log_vars.values())


def test_plain_mmseg_checkpoint_initialises_student_and_teacher(tmp_path):
    from mmengine.runner.checkpoint import load_checkpoint
    plain = MODELS.build(tiny_segmentor())
    path = str(tmp_path / 'plain.pth')
    torch.save(dict(state_dict=plain.state_dict()), path)
    model = build_dacs()
    load_checkpoint(model, path, map_location='cpu', strict=False)
    for k, v in plain.state_dict().items():
        assert torch.equal(model.student.state_dict()[k], v), k
        assert torch.equal(model.teacher_model.state_dict()[k], v), k


def test_predict_on_student_or_teacher():
    model = build_dacs(predict_on='teacher')
    assert model.inference_model is model.teacher_model
    default = build_dacs()
    assert default.inference_model is default.student
    with pytest.raises(ValueError, match='predict_on'):
        build_dacs(predict_on='ema')
    with pytest.raises(RuntimeError, match='DeviceAgnosticDDP'):
        model.loss(None, None)


def test_optimiser_holds_only_the_student():
    from mmengine.optim import build_optim_wrapper
    model = build_dacs(imnet_feature_dist=dict())
    ow = build_optim_wrapper(model, dict(
        type='OptimWrapper', constructor='UDAOptimWrapperConstructor',
        optimizer=dict(type='AdamW', lr=1e-3), paramwise_cfg=dict(custom_keys=dict(
            head=dict(lr_mult=10.0)))))
    in_optim = {id(p) for g in ow.optimizer.param_groups for p in g['params']}
    assert in_optim == {id(p) for p in model.student.parameters()}
    head = {id(p) for p in model.student.decode_head.parameters()}
    lrs = {g['lr'] for g in ow.optimizer.param_groups if id(g['params'][0]) in head}
    assert lrs == {1e-2}


@pytest.mark.parametrize('case', ['all_ignore', 'single_class', 'absent_classes'])
def test_weighted_loss_edge_cases_and_gradient(case):
    model = build_dacs()
    x = torch.randn(2, 3, H, W)
    labels = {'all_ignore': torch.full((2, H, W), 255),
              'single_class': torch.full((2, H, W), 2),
              'absent_classes': torch.randint(0, 2, (2, H, W))}[case]
    weights = torch.rand(2, H, W)
    loss = model.weighted_loss(x, None, labels, weights)['decode.loss_ce']
    assert torch.isfinite(loss)
    if case == 'all_ignore':
        assert loss.item() == 0  # every pixel is ignored: zero, not NaN
    loss.backward()
    grad = model.student.decode_head.conv_seg.weight.grad
    assert grad is not None and torch.isfinite(grad).all()
    # the gradient is that of mean(w · CE) computed by hand
    model.zero_grad()
    logits = F.interpolate(model.student.decode_head(model.student.extract_feat(x)), (H, W),
                           mode='bilinear', align_corners=False)
    ce = F.cross_entropy(logits, labels, ignore_index=255, reduction='none')
    (weights * ce).mean().backward()
    torch.testing.assert_close(model.student.decode_head.conv_seg.weight.grad, grad)


def test_teacher_probs_average_over_scales():
    from mmseg.models.utils import resize
    model = build_dacs(teacher_bn='eval')
    x = torch.randn(2, 3, H, W)
    teacher = model.teacher_model

    def teacher_softmax(inputs):  # one pass of the (eval-mode) teacher, resized to H x W
        with torch.no_grad():
            return resize(teacher.decode_head(teacher.extract_feat(inputs)), size=(H, W),
                          mode='bilinear', align_corners=False).softmax(1)
    probs, feats = model.teacher_probs(x, scales=(1.0, ))
    torch.testing.assert_close(probs, teacher_softmax(x))
    assert feats[-1].shape[-2:] == (H // 8, W // 8)
    probs, feats = model.teacher_probs(x, scales=(0.5, 1.0))
    half = resize(x, scale_factor=0.5, mode='bilinear', align_corners=False)
    torch.testing.assert_close(probs, (teacher_softmax(half) + teacher_softmax(x)) / 2)
    assert model.teacher_probs(x, scales=(0.5, ))[1] is None
    assert not probs.requires_grad
