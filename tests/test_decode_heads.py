"""DLV2Head / DAFormerHead and the DeepLabV2 / DAFormer model base configs."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.config import Config, ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_uda.models.decode_heads import DAFormerHead, DLV2Head

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL_CFGS = osp.join(REPO, 'configs', '_base_', 'models')
MIT_B5_CHANNELS = [64, 128, 320, 512]


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def data_samples(batch, size, num_classes=19, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(batch):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, *size), generator=g))
        s.set_metainfo(dict(img_shape=size, pad_shape=size, ori_shape=size))
        samples.append(s)
    return samples


def mit_feats(batch=2, size=64, channels=MIT_B5_CHANNELS):
    return [torch.randn(batch, c, size // s, size // s) for c, s in zip(channels, (4, 8, 16, 32))]


def build_cfg(name):
    cfg = Config.fromfile(osp.join(MODEL_CFGS, name))
    cfg.segmentor.backbone.init_cfg = None  # no pretrained download in tests
    return cfg


# ----------------------------------------------------------------------------- DLV2Head


def dlv2(dilations=(6, 12, 18, 24), in_channels=16, num_classes=5, **kwargs):
    return DLV2Head(dilations=dilations, in_channels=in_channels, in_index=0,
                    num_classes=num_classes, **kwargs)


def test_dlv2_registered_and_no_conv_seg():
    head = MODELS.build(dict(type='DLV2Head', in_channels=16, in_index=0, num_classes=5))
    assert isinstance(head, DLV2Head)
    assert not hasattr(head, 'conv_seg')
    assert 'conv_seg' not in dict(head.named_parameters())
    assert head.dropout is None and head.dilations == (6, 12, 18, 24)
    head.init_weights()  # must not touch the deleted conv_seg


def test_dlv2_sum_is_exact():
    head = dlv2(dilations=(6, 12)).eval()
    x = torch.randn(2, 16, 20, 20)
    out = head([x])
    b0, b1 = (m.conv for m in head.aspp_modules)
    assert torch.equal(out, b0(x) + b1(x))
    manual = sum(F.conv2d(x, c.weight, c.bias, padding=d, dilation=d)
                 for c, d in zip((b0, b1), (6, 12)))
    torch.testing.assert_close(out, manual)


@pytest.mark.parametrize('dilations', [(6, 12), (6, 12, 18, 24)])
def test_dlv2_branches(dilations):
    c_in, k = 16, 5
    head = dlv2(dilations=dilations, in_channels=c_in, num_classes=k)
    assert len(head.aspp_modules) == len(dilations)
    for m, d in zip(head.aspp_modules, dilations):
        assert not m.with_norm and not m.with_activation
        assert m.conv.kernel_size == (3, 3) and m.conv.bias is not None
        assert m.conv.dilation == (d, d) and m.conv.padding == (d, d)
        assert (m.conv.in_channels, m.conv.out_channels) == (c_in, k)
    assert n_params(head) == len(dilations) * (c_in * k * 9 + k)
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.ReLU, nn.Dropout2d, nn.AdaptiveAvgPool2d))
                   for m in head.modules())


def test_dlv2_init():
    head = dlv2(in_channels=256, num_classes=19)
    head.init_weights()
    for m in head.aspp_modules:
        assert m.conv.weight.std().item() == pytest.approx(0.01, rel=0.05)
        assert m.conv.weight.mean().abs().item() < 1e-3
        assert torch.count_nonzero(m.conv.bias) == 0


def test_dlv2_shape_and_gradients():
    head = dlv2(in_channels=32, num_classes=19)
    feats = [torch.randn(2, 32, 8, 8)]  # 64x64 input at output stride 8
    out = head(feats)
    assert out.shape == (2, 19, 8, 8)
    out.square().mean().backward()
    for m in head.aspp_modules:
        assert m.conv.weight.grad is not None and m.conv.weight.grad.abs().sum() > 0
        assert m.conv.bias.grad.abs().sum() > 0


# -------------------------------------------------------------------------- DAFormerHead


@pytest.mark.parametrize('fusion_type', ['sepaspp', 'conv'])
def test_daformer_head_shape_and_backward(fusion_type):
    head = MODELS.build(dict(type='DAFormerHead', num_classes=19, fusion_type=fusion_type))
    assert isinstance(head, DAFormerHead)
    feats = mit_feats()
    out = head(feats)
    assert out.shape == (2, 19, 16, 16)  # 1/4 of the 64x64 input
    out.square().mean().backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_daformer_head_structure():
    head = DAFormerHead(num_classes=19)
    assert head.input_transform == 'multiple_select' and head.dropout.p == 0.1
    assert not any(isinstance(m, (nn.AdaptiveAvgPool2d, nn.AvgPool2d)) for m in head.modules())
    assert all(isinstance(e, nn.Conv2d) and e.kernel_size == (1, 1) and e.bias is not None
               for e in head.embed_layers)
    branches = head.fusion.aspp_modules
    assert isinstance(branches[0], ConvModule) and branches[0].conv.kernel_size == (1, 1)
    for m, d in zip(list(branches)[1:], (6, 12, 18)):
        assert isinstance(m, DepthwiseSeparableConvModule)
        assert m.depthwise_conv.conv.dilation == (d, d)
        assert m.depthwise_conv.conv.padding == (d, d)
        assert m.pointwise_conv.with_norm and m.pointwise_conv.with_activation
    bottleneck = head.fusion.bottleneck
    assert isinstance(bottleneck, ConvModule) and bottleneck.conv.kernel_size == (3, 3)
    assert bottleneck.conv.in_channels == 4 * 256 and bottleneck.conv.out_channels == 256
    sep = DAFormerHead(num_classes=19, sep_bottleneck=True)
    assert isinstance(sep.fusion.bottleneck, DepthwiseSeparableConvModule)
    with pytest.raises(ValueError):
        DAFormerHead(num_classes=19, fusion_type='aspp')


def test_daformer_head_param_count():
    """Hand count of the MiT-B5 / 256-d / sep-ASPP head; 19 classes."""
    e = c = 256
    embed = sum(ci * e + e for ci in MIT_B5_CHANNELS)
    cat = 4 * e
    d1 = cat * c + 2 * c  # 1x1 conv (no bias) + BN
    sep = cat * 9 + 2 * cat + cat * c + 2 * c  # depthwise + BN + pointwise + BN
    bottleneck = cat * c * 9 + 2 * c
    cls = c * 19 + 19
    head = DAFormerHead(num_classes=19)
    assert n_params(head) == embed + d1 + 3 * sep + bottleneck + cls == 3_712_275
    assert n_params(DAFormerHead(num_classes=19, sep_bottleneck=True)) == (
        3_712_275 - bottleneck + sep)
    assert n_params(DAFormerHead(num_classes=19, fusion_type='conv')) == embed + d1 + cls


# --------------------------------------------------------------------------- model configs


def test_deeplabv2_configs():
    red = Config.fromfile(osp.join(MODEL_CFGS, 'deeplabv2red_r101v1c.py')).segmentor
    full = Config.fromfile(osp.join(MODEL_CFGS, 'deeplabv2_r101v1c.py')).segmentor
    assert tuple(red.decode_head.dilations) == (6, 12)
    assert tuple(full.decode_head.dilations) == (6, 12, 18, 24)
    full.decode_head.dilations = red.decode_head.dilations
    assert full.to_dict() == red.to_dict()
    assert red.backbone.init_cfg.checkpoint == 'open-mmlab://resnet101_v1c'


def _loss_backward(model, size=64):
    model.train()
    inputs = torch.randn(1, 3, size, size)
    losses = model.loss(inputs, data_samples(1, (size, size)))
    loss, _ = model.parse_losses(losses)
    assert torch.isfinite(loss)
    loss.backward()
    return loss


def test_deeplabv2_r101_forward_backward():
    model = MODELS.build(build_cfg('deeplabv2_r101v1c.py').segmentor)
    assert isinstance(model.decode_head, DLV2Head)
    assert n_params(model) == pytest.approx(43.92e6, rel=0.02)  # measured 43,920,300
    assert n_params(model.decode_head) == 4 * (2048 * 19 * 9 + 19)
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert feats[3].shape == (1, 2048, 8, 8)  # output stride 8
    _loss_backward(model)
    for m in model.decode_head.aspp_modules:
        assert m.conv.weight.grad.abs().sum() > 0
    assert model.backbone.stem[0].weight.grad.abs().sum() > 0

    red = MODELS.build(build_cfg('deeplabv2red_r101v1c.py').segmentor)
    assert n_params(red) == n_params(model) - 2 * (2048 * 19 * 9 + 19)


def test_daformer_mitb5_forward_backward():
    cfg = build_cfg('daformer_sepaspp_mitb5.py')
    assert cfg.segmentor.backbone.num_layers == [3, 6, 40, 3]
    model = MODELS.build(cfg.segmentor)
    assert isinstance(model.decode_head, DAFormerHead)
    assert n_params(model.backbone) == pytest.approx(81.44e6, rel=0.02)  # measured 81,443,008
    assert n_params(model.decode_head) == pytest.approx(3.71e6, rel=0.02)  # measured 3,712,275
    _loss_backward(model)
    assert model.backbone.layers[0][0].projection.weight.grad.abs().sum() > 0
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0


# --------------------------------------------------------------- tiny end-to-end train steps


def _tiny_train_step(model_cfg, size=64):
    cfg = Config.fromfile(osp.join(MODEL_CFGS, 'deeplabv2red_r101v1c.py'))
    model_cfg['data_preprocessor'] = dict(cfg.segmentor.data_preprocessor, size=(size, size))
    model = MODELS.build(ConfigDict(model_cfg))  # test_cfg.mode needs attribute access
    model.init_weights()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    samples = data_samples(2, (size, size))
    data = dict(inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
                        for _ in samples], data_samples=samples)
    before = [p.detach().clone() for p in model.decode_head.parameters()]
    log_vars = model.train_step(data, optim)
    assert torch.isfinite(log_vars['loss'])
    after = list(model.decode_head.parameters())
    assert all(not torch.equal(b, a) for b, a in zip(before, after))
    model.eval()
    with torch.no_grad():
        preds = model.test_step(dict(inputs=data['inputs'][:1], data_samples=samples[:1]))
    assert preds[0].pred_sem_seg.data.shape == (1, size, size)
    return model


def test_tiny_resnet18_dlv2_train_step():
    model = _tiny_train_step(dict(
        type='EncoderDecoder',
        backbone=dict(type='ResNetV1c', depth=18, base_channels=16, stem_channels=16,
                      out_indices=(0, 1, 2, 3), dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                      contract_dilation=True, norm_eval=False),
        decode_head=dict(type='DLV2Head', in_channels=128, in_index=3, dilations=(6, 12),
                         num_classes=19),
        train_cfg=dict(), test_cfg=dict(mode='whole')))
    assert len(model.decode_head.aspp_modules) == 2


def test_tiny_mit_daformer_train_step():
    model = _tiny_train_step(dict(
        type='EncoderDecoder',
        backbone=dict(type='MixVisionTransformer', embed_dims=16, num_layers=[1, 1, 1, 1],
                      num_heads=[1, 1, 1, 1]),
        decode_head=dict(type='DAFormerHead', in_channels=[16, 16, 16, 16], embed_dims=32,
                         channels=32, num_classes=19),
        train_cfg=dict(), test_cfg=dict(mode='whole')))
    assert model.decode_head.fusion.bottleneck.conv.in_channels == 4 * 32


def test_projection_head():
    import torch
    from mmseg.registry import MODELS
    head = MODELS.build(dict(type='ProjectionHead', in_channels=16, out_channels=8))
    feats = [torch.randn(2, 4, 6, 6), torch.randn(2, 16, 5, 7, requires_grad=True)]
    out = head(feats)  # the last backbone output
    assert out.shape == (2, 8, 5, 7)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2, 5, 7))
    out.sum().backward()
    assert feats[1].grad is not None and all(p.grad is not None for p in head.parameters())
    convs = [m for m in head.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(16, 16), (16, 8)]
    bn = MODELS.build(dict(type='ProjectionHead', in_channels=16, out_channels=8, channels=4,
                           norm_cfg=dict(type='BN'), final_act=True, normalize=False))
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in bn.modules()) == 2
    assert (bn(torch.randn(2, 16, 3, 3)) >= 0).all()  # final ReLU
