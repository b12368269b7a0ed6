"""HRDA as the segmentor of our UDA methods: the student trains on the multi-resolution pass
(fused and detail losses, with DACS's pixel weights), the teacher labels with the detail crops
slid over the context, and the random detail boxes follow the global batch."""
import math

import pytest
import torch
from test_dacs import CountingOptimWrapper, build_uda
from test_dacs import paired_batch as dacs_paired_batch
from test_hrda import C, SIZE, hrda_cfg

from mmseg_uda.models.segmentors.uda_base import feature_logits


def hrda_segmentor():
    cfg = hrda_cfg()
    cfg['data_preprocessor'] = None  # the UDA model's preprocessor pads the crops
    return cfg


def paired_batch(b=2, seed=0):
    return dacs_paired_batch(b, seed, (SIZE, SIZE), C)  # 64x64 context crops


def build(**kwargs):
    cfg = dict(type='DACS', segmentor=hrda_segmentor(), ema=dict(alpha=0.99),
               pseudo_threshold=0.01,
               data_preprocessor=dict(type='UDADataPreProcessor', mean=[128.0] * 3,
                                      std=[64.0] * 3, size=(SIZE, SIZE), pad_val=0,
                                      seg_pad_val=255))
    cfg.update(kwargs)
    return build_uda(**cfg)


def test_dacs_with_hrda_trains_fused_and_detail_losses():
    torch.manual_seed(0)
    model = build()
    ow = CountingOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    before = {k: v.clone() for k, v in model.student.state_dict().items()}
    log_vars = model.train_step(paired_batch(), ow)
    for key in ('src.decode.loss_ce', 'src.hr.decode.loss_ce', 'mix.decode.loss_ce',
                'mix.hr.decode.loss_ce'):
        assert math.isfinite(float(log_vars[key])), key
    assert float(log_vars['mix.hr.decode.loss_ce']) > 0  # q > 0: the weights reach the detail term
    moved = {k for k, v in model.student.state_dict().items() if not torch.equal(before[k], v)}
    assert any(k.startswith('decode_head.scale_attention.') for k in moved)
    assert any(k.startswith('backbone.') for k in moved)


def test_teacher_labels_with_the_slid_detail_crops():
    model = build()
    x = torch.randn(2, 3, SIZE, SIZE)
    probs, feats = model.teacher_probs(x)
    teacher = model._teacher_for_inference()
    with torch.no_grad():
        logits, lr_feats = teacher.context_logits(x, return_feats=True)
    torch.testing.assert_close(probs, logits.softmax(1))
    assert all(torch.equal(a, b) for a, b in zip(feats, lr_feats))


def test_feature_losses_read_the_context_logits():
    model = build()
    feats, out = model.student_outputs(torch.randn(2, 3, SIZE, SIZE))
    assert isinstance(out, dict) and feature_logits(out) is out['lr']
    assert feature_logits(out).shape[2:] == feats[0].shape[2:]


def test_a_plain_head_call_refuses_hrda():
    model = build()
    with pytest.raises(TypeError, match='HRDAEncoderDecoder.multires_logits'):
        model.student.decode_head.forward(model.student.extract_feat(torch.randn(1, 3, SIZE,
                                                                                   SIZE)))


@pytest.mark.parametrize('images', ['target', 'source_and_target'])
def test_mic_with_hrda(images):
    torch.manual_seed(0)
    model = build(masked_consistency=dict(block_size=8, images=images))
    ow = CountingOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    log_vars = model.train_step(paired_batch(), ow)
    assert ow.calls['backward'] == 3
    assert math.isfinite(float(log_vars['masked.hr.decode.loss_ce']))


def test_amp_iteration_is_finite():
    from mmseg_uda.engine import CPUAmpOptimWrapper
    torch.manual_seed(0)
    model = build()
    ow = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.01))
    log_vars = model.train_step(paired_batch(), ow)
    assert all(math.isfinite(float(v)) for v in log_vars.values())
