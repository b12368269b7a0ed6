"""SDCA's and RCCR's protocol against their reference code: the adaptation stage needs the warm-up's
weights, the source CE averages over the labelled pixels, and RCCR's BN affine parameters stay
frozen (DACS's DeepLabV2)."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO
from mmengine.config import Config
from mmseg.registry import MODELS
from test_dacs import NUM_CLASSES, build_dacs, paired_batch, tiny_segmentor
from test_sdca import build_sdca, optim

CONFIGS = osp.join(REPO, 'configs')


def build(type_, **kwargs):
    """SDCA or SDCADACS (with its EMA teacher) at test size."""
    teacher = dict(ema=dict(alpha=0.99)) if type_ == 'SDCADACS' else {}
    return build_sdca(type=type_, **teacher, **kwargs)


# -- SDCA's adaptation starts from the warm-up ----------------------------------------------------
@pytest.mark.parametrize('type_', ['SDCA', 'SDCADACS'])
def test_adaptation_refuses_a_network_no_checkpoint_loaded(type_, tmp_path):
    """Until a checkpoint loads the network (load_from: the warm-up), neither the statistics'
    pass nor training runs; the record is checkpointed, so a resumed run keeps it."""
    from mmengine.runner import load_checkpoint
    torch.manual_seed(0)
    model = build(type_, require_warm_start=True)
    batch = paired_batch(b=1)
    message = 'not loaded.*load_from.*configs/sdca/pipeline_gta2cs.py.*require_warm_start=False'
    with pytest.raises(RuntimeError, match=message):
        model.train_step(batch, optim(model))
    with pytest.raises(RuntimeError, match=message):  # the statistics' pass comes first
        data = model.data_preprocessor(batch['source'], False)
        model.update_statistics(data['inputs'], data['data_samples'])
    warm_up = str(tmp_path / 'warm_up.pth')  # a plain segmentor checkpoint, as the pipeline's
    torch.save(dict(state_dict=MODELS.build(tiny_segmentor()).state_dict()), warm_up)
    load_checkpoint(model, warm_up)  # the Runner's load_from
    assert bool(model.warm_started)
    if type_ == 'SDCADACS':
        return  # (the same mixin; one training run is enough)
    model.train_step(batch, optim(model))
    resumed_path = str(tmp_path / 'adaptation.pth')
    torch.save(dict(state_dict=model.state_dict()), resumed_path)
    resumed = build(type_, require_warm_start=True)
    load_checkpoint(resumed, resumed_path)  # a resumed run keeps the record
    assert bool(resumed.warm_started)
    resumed.train_step(batch, optim(resumed))


def test_configs_require_the_warm_up_except_the_warm_up():
    for path, required in (('sdca/gta2cs.py', True), ('sdca/synthia2cs.py', True),
                           ('sdca/ablations/gta2cs_row4_feat_only.py', True),
                           ('sdca/ablations/synthia2cs_row5_multi_level.py', True),
                           ('sdca/sdca_dacs_gta2cs.py', True),
                           ('sdca/sdca_daformer-mitb5_gta2cs.py', True),
                           ('sdca/stages/gta2cs_1_source.py', False),
                           ('sdca/ablations/synthia2cs_row1_source_only.py', False)):
        assert Config.fromfile(osp.join(CONFIGS, path)).model.require_warm_start is required, path


# -- the source CE over the labelled pixels (the authors' code), DACS's mixed loss unchanged -------
def test_source_ce_averages_over_labelled_pixels_and_the_weighted_loss_over_all():
    torch.manual_seed(0)
    seg = tiny_segmentor()
    seg['decode_head']['loss_decode'] = dict(type='CrossEntropyLoss', avg_non_ignore=True)
    model = build_dacs(segmentor=seg)
    logits = torch.randn(2, NUM_CLASSES, 8, 8)
    labels = torch.randint(0, NUM_CLASSES, (2, 32, 32))
    labels[:, :12] = 255
    weights = torch.rand(2, 32, 32)
    up = F.interpolate(logits, size=(32, 32), mode='bilinear', align_corners=False)
    ce = F.cross_entropy(up, labels, ignore_index=255, reduction='none')
    plain = model.decode_losses(logits, labels)['decode.loss_ce']
    torch.testing.assert_close(plain, ce.sum() / (labels != 255).sum())
    weighted = model.decode_losses(logits, labels, weights)['decode.loss_ce']
    torch.testing.assert_close(weighted, (ce * weights).mean())  # DACS: ignored pixels count 0


@pytest.mark.parametrize('path', ['sdca/gta2cs.py', 'sdca/stages/synthia2cs_1_source.py',
                                  'rccr/gta2cs.py', 'rccr/synthia2cs.py',
                                  'rccr/ablations/row0_baseline.py'])
def test_source_ce_config(path):
    seg = Config.fromfile(osp.join(CONFIGS, path)).model.segmentor
    assert seg.decode_head.loss_decode.avg_non_ignore is True, path


# -- RCCR: BN affine frozen, batch statistics (DACS's DeepLabV2) ------------------------------------
def test_rccr_trains_no_bn_affine_parameter_and_keeps_batch_statistics():
    cfg = Config.fromfile(osp.join(CONFIGS, 'rccr', 'gta2cs.py')).model.to_dict()
    cfg['segmentor']['backbone'].update(depth=18, stem_channels=8, base_channels=8, init_cfg=None)
    cfg['segmentor']['decode_head']['in_channels'] = 64
    cfg['projection_head'].update(in_channels=64, channels=16)
    model = MODELS.build(cfg)
    bn = [m for m in model.student.backbone.modules()
          if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bn and not any(p.requires_grad for m in bn for p in m.parameters())
    assert model.student.backbone.norm_eval is False and model.teacher_bn == 'train'
    trained = [n for n, p in model.student.backbone.named_parameters() if p.requires_grad]
    assert trained and all('bn' not in n and 'stem.1' not in n for n in trained)
