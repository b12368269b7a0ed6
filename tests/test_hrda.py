"""HRDA (HRDAEncoderDecoder + HRDAHead) on a tiny MiT: detail crops, the fusion, the loss, the
sliding inference, supervised training and bf16 autocast, on CPU with random 64x64 inputs."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO
from mmengine import ConfigDict
from mmseg.registry import MODELS

from mmseg_uda.models.segmentors.hrda import (crop_boxes, draw_detail_boxes, place_boxes,
                                              slide_boxes)
from mmseg_uda.models.utils import global_batch as gb

C = 5  # classes
SIZE = 64  # context crop; the detail crop is 32, the LR input 32, the head's output stride 4


def hrda_cfg(**overrides):
    head = dict(type='DAFormerHead', in_channels=[16, 16, 16, 16], embed_dims=16, channels=16,
                num_classes=C)
    cfg = dict(
        type='HRDAEncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[128.0] * 3, std=[64.0] * 3,
                               size=(SIZE, SIZE), pad_val=0, seg_pad_val=255),
        backbone=dict(type='MixVisionTransformer', embed_dims=16, num_layers=[1, 1, 1, 1],
                      num_heads=[1, 1, 1, 1]),
        decode_head=dict(type='HRDAHead', head=head, hr_loss_weight=0.1),
        context_scale=0.5, detail_crop_size=(32, 32), crop_coord_divisible=8,
        train_cfg=dict(), test_cfg=ConfigDict(mode='whole'))
    cfg.update(overrides)
    return cfg


def build(seed=0, **overrides):
    torch.manual_seed(seed)
    model = MODELS.build(hrda_cfg(**overrides))
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def model():
    return build()


# -- detail crops ---------------------------------------------------------------------------------
def test_detail_boxes_aligned_inside_and_reproducible():
    g = torch.Generator().manual_seed(0)
    box = draw_detail_boxes(500, (64, 96), (32, 32), 8, generator=g)
    assert box.dtype == torch.long and box.shape == (500, 4)
    assert (box % 8 == 0).all()  # aligned with the LR grid (stride 8 in input pixels)
    assert ((box[:, 1] - box[:, 0]) == 32).all() and ((box[:, 3] - box[:, 2]) == 32).all()
    assert (box[:, [0, 2]] >= 0).all() and (box[:, 1] <= 64).all() and (box[:, 3] <= 96).all()
    # every aligned position is drawn, none other
    assert set(box[:, 0].tolist()) == {0, 8, 16, 24, 32}
    assert set(box[:, 2].tolist()) == set(range(0, 65, 8))
    again = draw_detail_boxes(500, (64, 96), (32, 32), 8,
                              generator=torch.Generator().manual_seed(0))
    assert torch.equal(box, again)
    with pytest.raises(ValueError, match='does not fit'):
        draw_detail_boxes(1, (24, 64), (32, 32), 8, generator=g)


def test_detail_boxes_follow_the_global_batch():
    """Inside a UDA iteration the boxes of a rank's images are its rows of one draw for the global
    batch: ranks with images 2-3 of 4 crop as one process with all 4 images does."""
    def draw(local, offset, total):
        previous = gb.current()
        gb._STATE.batch = gb._Batch(local, offset, total, torch.Generator().manual_seed(5))
        try:
            return draw_detail_boxes(local, (64, 64), (32, 32), 8)
        finally:
            gb._STATE.batch = previous
    whole = draw(4, 0, 4)
    assert torch.equal(draw(2, 2, 4), whole[2:]) and torch.equal(draw(2, 0, 4), whole[:2])
    assert len({tuple(b) for b in whole.tolist()}) > 1


def test_crop_and_place_boxes():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float).view(2, 3, 8, 8)
    box = torch.tensor([[0, 4, 2, 6], [4, 8, 0, 4]])
    crops = crop_boxes(x, box)
    assert torch.equal(crops[0], x[0, :, 0:4, 2:6]) and torch.equal(crops[1], x[1, :, 4:8, 0:4])
    labels = x[:, 0].long()
    assert torch.equal(crop_boxes(labels, box)[1], labels[1, 4:8, 0:4])
    placed = place_boxes(crops, box, (8, 8))
    assert torch.equal(placed[0, :, 0:4, 2:6], crops[0]) and placed[0].sum() == crops[0].sum()
    assert torch.equal(placed[1, :, 4:8, 0:4], crops[1]) and placed[1].sum() == crops[1].sum()


def test_multires_shapes_and_alignment(model):
    x = torch.randn(2, 3, SIZE, SIZE)
    out = model.multires_logits(x, generator=torch.Generator().manual_seed(3))
    box = out['box']
    assert torch.equal(box, draw_detail_boxes(2, (SIZE, SIZE), (32, 32), 8,
                                              generator=torch.Generator().manual_seed(3)))
    assert out['fused'].shape == (2, C, 16, 16)  # the detail (output stride 4) grid
    assert out['hr'].shape == (2, C, 8, 8) and out['lr'].shape == (2, C, 8, 8)
    assert out['attention'].shape == (2, C, 8, 8)  # class-wise, on the LR grid
    assert ((out['attention'] > 0) & (out['attention'] < 1)).all()
    assert [f.shape[-1] for f in out['feats']] == [8, 4, 2, 1]  # LR features of a 32x32 input
    # the HR logits are those of the detail crop, which is the input at the box
    model.eval()
    with torch.no_grad():
        x = torch.randn(2, 3, SIZE, SIZE)
        box = torch.tensor([[8, 40, 24, 56], [32, 64, 0, 32]])
        out = model.multires_logits(x, detail_box=box)
        crop = torch.stack([x[0, :, 8:40, 24:56], x[1, :, 32:64, 0:32]])
        hr = model.decode_head.seg_logits(model.backbone(crop))
        torch.testing.assert_close(out['hr'], hr)
        # outside the detail region the fused prediction is the (upsampled) LR one
        lr_up = F.interpolate(out['lr'], size=(16, 16), mode='bilinear', align_corners=False)
        inside = torch.zeros(2, 1, 16, 16, dtype=torch.bool)
        inside[0, :, 2:10, 6:14] = inside[1, :, 8:16, 0:8] = True
        assert torch.equal(out['fused'].masked_select(~inside), lr_up.masked_select(~inside))
        assert not torch.allclose(out['fused'].masked_select(inside),
                                  lr_up.masked_select(inside))


def test_fusion_formula_literal(model):
    """y_fused = a·y_HR + (1 − a)·up(y_LR) in the detail region, up(y_LR) (a = 0) outside; a
    non-finite detail value outside the region does not leak in."""
    torch.manual_seed(0)
    lr, att = torch.randn(1, 2, 2, 2), torch.rand(1, 2, 2, 2)
    hr = torch.randn(1, 2, 4, 4)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 1:3, 0:2] = 1
    hr_nan = torch.where(mask > 0, hr, torch.nan)
    fused = model.decode_head.fuse(lr, att, hr_nan, mask)
    lr_up = F.interpolate(lr, size=(4, 4), mode='bilinear', align_corners=False)
    a_up = F.interpolate(att, size=(4, 4), mode='bilinear', align_corners=False)
    ref = torch.empty(1, 2, 4, 4)
    for c in range(2):
        for i in range(4):
            for j in range(4):
                if 1 <= i < 3 and 0 <= j < 2:
                    a = a_up[0, c, i, j]
                    ref[0, c, i, j] = a * hr[0, c, i, j] + (1 - a) * lr_up[0, c, i, j]
                else:
                    ref[0, c, i, j] = lr_up[0, c, i, j]
    torch.testing.assert_close(fused, ref)


# -- the loss -------------------------------------------------------------------------------------
def test_loss_is_weighted_fused_plus_detail(model):
    """(1 − λ_d)·L_fused + λ_d·L_HR with λ_d = 0.1, per-pixel weights cropped with the labels,
    ignored pixels counting 0 in the mean over all pixels (mmseg's CE)."""
    torch.manual_seed(1)
    x = torch.randn(2, 3, SIZE, SIZE)
    labels = torch.randint(0, C, (2, SIZE, SIZE))
    labels[:, :5] = 255
    weights = torch.rand(2, SIZE, SIZE)
    box = torch.tensor([[0, 32, 32, 64], [24, 56, 8, 40]])
    out = model.multires_logits(x, detail_box=box)
    losses = model.multires_losses(out, labels, weights)

    def ce(logits, y, w):
        logits = F.interpolate(logits, size=y.shape[1:], mode='bilinear', align_corners=False)
        return (F.cross_entropy(logits, y, ignore_index=255, reduction='none') * w).mean()
    crop = lambda t: torch.stack([t[0, 0:32, 32:64], t[1, 24:56, 8:40]])  # noqa: E731
    l_fused, l_hr = ce(out['fused'], labels, weights), ce(out['hr'], crop(labels), crop(weights))
    torch.testing.assert_close(losses['decode.loss_ce'], 0.9 * l_fused)
    torch.testing.assert_close(losses['hr.decode.loss_ce'], 0.1 * l_hr)
    assert {'decode.acc_seg', 'hr.decode.acc_seg'} <= set(losses)
    # a UDA segmentor's own loss function is called for both terms with the right scales
    calls = []

    def loss_fn(logits, y, w, scale=1.0):
        calls.append((tuple(logits.shape), tuple(y.shape), w is None, scale))
        return {'decode.loss_ce': scale * logits.sum()}
    got = model.multires_losses(out, labels, loss_fn=loss_fn, scale=2.0)
    assert calls == [((2, C, 16, 16), (2, SIZE, SIZE), True, 2.0 * 0.9),
                     ((2, C, 8, 8), (2, 32, 32), True, pytest.approx(2.0 * 0.1))]
    assert set(got) == {'decode.loss_ce', 'hr.decode.loss_ce'}


def test_gradients_reach_encoder_head_and_attention():
    model = build()
    model.train()
    x = torch.randn(2, 3, SIZE, SIZE)
    out = model.multires_logits(x, generator=torch.Generator().manual_seed(0))
    losses = model.multires_losses(out, torch.randint(0, C, (2, SIZE, SIZE)))
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for name in ('backbone', 'decode_head.head', 'decode_head.scale_attention'):
        params = [(n, p) for n, p in model.named_parameters() if n.startswith(name)]
        assert params, name
        missing = [n for n, p in params if p.grad is None]
        assert not missing, missing
        assert any(p.grad.abs().sum() > 0 for _, p in params), name
    conv = model.decode_head.scale_attention.conv_seg.weight
    assert conv.grad.abs().sum() > 0


# -- inference ------------------------------------------------------------------------------------
@pytest.mark.parametrize('size,crop,stride', [((64, 64), (32, 32), (16, 16)),
                                              ((100, 150), (32, 32), (24, 16)),
                                              ((20, 40), (32, 32), (16, 16))])
def test_slide_boxes_cover_every_pixel(size, crop, stride):
    count = torch.zeros(size)
    for y1, y2, x1, x2 in slide_boxes(size, crop, stride):
        assert 0 <= y1 < y2 <= size[0] and 0 <= x1 < x2 <= size[1]
        assert (y2 - y1, x2 - x1) == (min(crop[0], size[0]), min(crop[1], size[1]))
        count[y1:y2, x1:x2] += 1
    assert count.min() >= 1


def test_context_logits_literal(model):
    """Sliding 32x32 detail crops at stride 16 over a 64x64 context: averaged detail logits,
    the attention fusing everywhere, upsampled to the input."""
    model.eval()
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        got = model.context_logits(x)
        head = model.decode_head
        feats = model.backbone(F.interpolate(x, scale_factor=0.5, mode='bilinear'))
        lr, a = head.seg_logits(feats), torch.sigmoid(head.scale_attention(feats))
        hr_sum, count = torch.zeros(2, C, 16, 16), torch.zeros(16, 16)
        for y in (0, 16, 32):
            for x0 in (0, 16, 32):
                crop = x[:, :, y:y + 32, x0:x0 + 32]
                hr_sum[:, :, y // 4:y // 4 + 8, x0 // 4:x0 // 4 + 8] += \
                    head.seg_logits(model.backbone(crop))
                count[y // 4:y // 4 + 8, x0 // 4:x0 // 4 + 8] += 1
        up = lambda t, s: F.interpolate(t, size=s, mode='bilinear')  # noqa: E731
        a16 = up(a, (16, 16))
        fused = a16 * hr_sum / count + (1 - a16) * up(lr, (16, 16))
        torch.testing.assert_close(got, up(fused, (SIZE, SIZE)), rtol=1e-4, atol=1e-5)
        again, feats_again = model.context_logits(x, return_feats=True)
        torch.testing.assert_close(again, got)
        assert all(torch.equal(f, g) for f, g in zip(feats_again, feats))


def test_slide_inference_equals_whole_when_window_covers_image():
    model = build()
    model.eval()
    x = torch.randn(1, 3, 70, 100)  # not multiples of the detail crop, nor of 8
    with torch.no_grad():
        whole = model.predict(x)[0].seg_logits.data
        model.test_cfg = ConfigDict(mode='slide', crop_size=(128, 128), stride=(64, 64))
        slide = model.predict(x)[0].seg_logits.data
        torch.testing.assert_close(slide, whole)
        # a smaller window slides (mmseg checks that each pixel is covered); sizes that are not
        # multiples of crop_coord_divisible are padded inside each window
        model.test_cfg = ConfigDict(mode='slide', crop_size=(64, 68), stride=(32, 48))
        out = model.predict(x)[0]  # 2x2 windows
        assert out.seg_logits.data.shape == (C, 70, 100) and torch.isfinite(
            out.seg_logits.data).all()
        assert model._forward(x).shape == (1, C, 70, 100)


# -- training -------------------------------------------------------------------------------------
def batch(n=2, seed=0):
    """Images whose colour gives the class: a learnable toy problem."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        label = torch.randint(0, C, (SIZE // 16, SIZE // 16), generator=g)
        label = label.repeat_interleave(16, 0).repeat_interleave(16, 1)
        img = (label[None].float() * 50 + torch.randint(0, 20, (3, SIZE, SIZE), generator=g))
        inputs.append(img.clamp(0, 255).to(torch.uint8))
        ds = SegDataSample()
        ds.set_metainfo(dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE)))
        ds.gt_sem_seg = PixelData(data=label[None])
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)


def test_supervised_training_reduces_the_loss():
    from mmengine.optim import OptimWrapper
    model = build(seed=1)
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-2))
    data = batch()
    logs = [model.train_step(data, optim) for _ in range(8)]
    first, last = logs[0], logs[-1]
    assert set(first) >= {'loss', 'decode.loss_ce', 'hr.decode.loss_ce'}
    torch.testing.assert_close(first['loss'], first['decode.loss_ce'] + first['hr.decode.loss_ce'])
    assert last['loss'] < 0.9 * first['loss'], (first['loss'], last['loss'])


def test_bf16_autocast_is_finite():
    model = build()
    model.train()
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = model.multires_logits(x, generator=torch.Generator().manual_seed(0))
        losses = model.multires_losses(out, torch.randint(0, C, (2, SIZE, SIZE)),
                                       torch.rand(2, SIZE, SIZE))
    assert out['fused'].dtype == torch.bfloat16  # autocast was in effect
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    model.eval()
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        assert torch.isfinite(model.context_logits(x)).all()


# -- construction and misuse ----------------------------------------------------------------------
def test_attention_variants_and_key_names(model):
    keys = model.state_dict().keys()
    assert any(k.startswith('decode_head.head.') for k in keys)
    assert any(k.startswith('decode_head.scale_attention.') for k in keys)
    assert not any(k.startswith('decode_head.conv_seg') for k in keys)
    shared = build(decode_head=dict(type='HRDAHead', attention_classwise=False,
                                    head=hrda_cfg()['decode_head']['head']))
    out = shared.multires_logits(torch.randn(1, 3, SIZE, SIZE),
                                 generator=torch.Generator().manual_seed(0))
    assert out['attention'].shape == (1, 1, 8, 8)
    fixed = build(decode_head=dict(type='HRDAHead', fixed_attention=0.5,
                                   head=hrda_cfg()['decode_head']['head']))
    assert fixed.decode_head.scale_attention is None
    assert not any('scale_attention' in k for k in fixed.state_dict())
    fixed.eval()
    with torch.no_grad():
        out = fixed.multires_logits(torch.randn(1, 3, SIZE, SIZE),
                                    detail_box=torch.tensor([0, 32, 0, 32]))
        lr_up = F.interpolate(out['lr'], size=(16, 16), mode='bilinear')
        ref = lr_up.clone()
        ref[..., :8, :8] = 0.5 * out['hr'] + 0.5 * lr_up[..., :8, :8]
        torch.testing.assert_close(out['fused'], ref)


def test_misuse_raises(model):
    with pytest.raises(TypeError, match='multires_logits'):
        model.decode_head.forward(model.extract_feat(torch.randn(1, 3, SIZE, SIZE)))
    with pytest.raises(ValueError, match='crop_coord_divisible=8'):
        model.multires_logits(torch.randn(1, 3, 60, 64))
    x = torch.randn(1, 3, SIZE, SIZE)
    with pytest.raises(ValueError, match='multiples of crop_coord_divisible'):
        model.multires_logits(x, detail_box=torch.tensor([4, 36, 0, 32]))
    with pytest.raises(ValueError, match='outside'):
        model.multires_logits(x, detail_box=torch.tensor([40, 72, 0, 32]))
    out = model.multires_logits(torch.randn(1, 3, SIZE, SIZE),
                                generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match='not the labels of the'):  # e.g. labels at LR
        model.multires_losses(out, torch.zeros(1, SIZE // 2, SIZE // 2, dtype=torch.long))
    with pytest.raises(ValueError, match='detail_crop_size'):
        MODELS.build(hrda_cfg(detail_crop_size=(36, 32)))
    with pytest.raises(ValueError, match='context_scale'):
        MODELS.build(hrda_cfg(context_scale=2))
    with pytest.raises(ValueError, match='hr_loss_weight'):
        MODELS.build(hrda_cfg(decode_head=dict(type='HRDAHead', hr_loss_weight=1.0,
                                               head=hrda_cfg()['decode_head']['head'])))
    with pytest.raises(TypeError, match='HRDAHead'):
        MODELS.build(hrda_cfg(decode_head=hrda_cfg()['decode_head']['head']))


def test_configs():
    """The base config holds HRDA's values; the tiny benchmark config (which inherits it) builds."""
    from mmseg_uda.engine.config import read_config
    base = read_config(osp.join(REPO, 'configs/_base_/models/hrda_daformer_sepaspp_mitb5.py'))
    seg = base.segmentor
    assert seg.type == 'HRDAEncoderDecoder' and seg.decode_head.type == 'HRDAHead'
    assert seg.decode_head.head.type == 'DAFormerHead' and seg.decode_head.head.num_classes == 19
    assert seg.decode_head.head.fusion_type == 'sepaspp'
    assert seg.backbone.num_layers == [3, 6, 40, 3]  # MiT-B5
    assert (seg.context_scale, tuple(seg.detail_crop_size), seg.crop_coord_divisible) == \
        (0.5, (512, 512), 8)
    assert seg.decode_head.hr_loss_weight == 0.1 and seg.decode_head.attention_classwise
    assert tuple(seg.data_preprocessor.size) == (1024, 1024)
    assert (seg.test_cfg.mode, tuple(seg.test_cfg.crop_size), tuple(seg.test_cfg.stride)) == \
        ('slide', (1024, 1024), (512, 512))
    tiny = read_config(osp.join(REPO, 'configs/benchmarks/hrda/hrda_tiny_toy_shift.py'))
    net = MODELS.build(tiny.model)
    assert net.detail_crop_size == (64, 64) and net.detail_slide_stride == (32, 32)
    assert net.decode_head.scale_attention.fusion_type == 'conv'
    assert net.decode_head.scale_attention.num_classes == 7


def test_speed_benchmark_measures_supervised_configs():
    """benchmarks/speed.py measures a plain segmentor config (HRDA's HRDAHead keeps num_classes
    in its head) and compares rows with a supervised baseline."""
    import argparse
    import importlib.util
    spec = importlib.util.spec_from_file_location('speed', osp.join(REPO, 'benchmarks', 'speed.py'))
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    config = osp.join(REPO, 'configs/benchmarks/hrda/hrda_tiny_toy_shift.py')
    assert not speed.is_uda(config) and speed.is_uda(osp.join(REPO, 'configs/dacs/gta2cs.py'))
    args = argparse.Namespace(cfg_options={}, size=(64, 64), batch=1, iters=1)
    name, result = speed.measure_one(config, 'supervised', args, torch.device('cpu'))
    assert name == 'supervised' and result['step_s'] > 0 and result['cpu_s'] > 0
    rows = speed.add_ratios({'supervised': dict(step_s=3.0, cpu_s=1.0, peak_mem_mb=30.0)},
                            baseline=dict(step_s=2.0, cpu_s=0.5, peak_mem_mb=20.0))
    assert rows['supervised']['ratio_to_baseline'] == 1.5
    assert rows['supervised']['mem_ratio_to_baseline'] == 1.5
    assert rows['supervised']['cpu_ratio_to_baseline'] == 2.0
    assert 'ratio_to_dacs' not in rows['supervised']
