"""The teacher predicts deterministically: every stochastic layer (Dropout of any kind, DropPath,
attention dropout) is off in every teacher pass, with BN as ``teacher_bn`` says."""
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmseg.registry import MODELS
from torch import nn


def tiny_mitb5_dacs():
    """The built MiT-B5 DACS config with a one-block-per-stage MiT (no ImageNet weights); its
    DAFormer head, dropout_ratio 0.1 included, and the DACS settings are the config's."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'dacs', 'dacs_daformer-mitb5_gta2cs.py'))
    seg = cfg.model.segmentor
    assert seg.decode_head.dropout_ratio == 0.1
    seg.backbone.update(embed_dims=8, num_layers=[1, 1, 1, 1],
                        drop_path_rate=0.5, init_cfg=None)  # channels 8·num_heads
    seg.decode_head.update(in_channels=[8, 16, 40, 64], channels=16, embed_dims=16)
    cfg.model.imnet_feature_dist = None  # a copy of the backbone that no teacher pass uses
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_two_teacher_passes_of_the_mitb5_dacs_config_are_identical():
    model = tiny_mitb5_dacs()
    model.train()  # as the runner leaves it during training
    assert any(type(m) is nn.Dropout2d for m in model.teacher_model.modules())
    x = torch.randn(2, 3, 64, 64)
    first, _ = model.teacher_probs(x)
    second, _ = model.teacher_probs(x)
    assert torch.equal(first, second), (first - second).abs().max()


@pytest.mark.parametrize('layer', [nn.Dropout(0.5), nn.Dropout1d(0.5), nn.Dropout2d(0.5),
                                   nn.Dropout3d(0.5), nn.AlphaDropout(0.5),
                                   nn.FeatureAlphaDropout(0.5),
                                   nn.MultiheadAttention(4, 1, dropout=0.5)],
                         ids=lambda m: type(m).__name__)
def test_teacher_mode_switches_off_every_stochastic_layer(layer):
    from mmcv.cnn.bricks.drop import DropPath

    from mmseg_uda.models.segmentors.uda_base import teacher_mode
    model = nn.Sequential(nn.BatchNorm2d(3), layer, DropPath(0.5))
    teacher_mode(model, bn_train=True)
    assert model[0].training  # BN as teacher_bn says
    assert not model[1].training and not model[2].training
    teacher_mode(model, bn_train=False)
    assert not any(m.training for m in model.modules())

