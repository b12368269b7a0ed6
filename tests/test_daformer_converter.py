"""tools/model_converters/daformer2mmseg.py: DAFormer / HRDA / MIC checkpoints (mmseg 0.16 forks) on
our mmseg 1.x MixVisionTransformer + DAFormerHead.

The stand-in checkpoints come from a small re-implementation of their architecture (SegFormer's MiT
with q/kv Linears, spatial-reduction conv + LayerNorm eps 1e-5, Mix-FFN with a depthwise conv and
GELU; DAFormer's head with Linear embeddings, sep-ASPP and bottleneck), written from the papers'
code layout, with their exact key names; the converted network must compute the same logits."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import REPO
from mmengine.config import Config
from mmseg.registry import MODELS
from test_tools import run

import mmseg_uda.models.backbones  # noqa: F401  (SegFormerMiT)
from mmseg_uda.models.decode_heads import DAFormerHead

sys.path.insert(0, osp.join(REPO, 'tools', 'model_converters'))
import daformer2mmseg as conv  # noqa: E402
from daformer2mmseg import ConversionError  # noqa: E402

MODEL_BASE = osp.join(REPO, 'configs', '_base_', 'models', 'daformer_sepaspp_mitb5.py')
TOY_SOURCE_ONLY = osp.join(REPO, 'configs', 'demo', 'source_only_toy_shift.py')
TOY_DACS = osp.join(REPO, 'configs', 'demo', 'dacs_toy_shift.py')
EMBED, DEPTHS, HEADS, SR = 8, [1, 2, 1, 1], [1, 2, 5, 8], [8, 4, 2, 1]
DIMS = [EMBED * h for h in HEADS]  # mmseg's MiT: constant head width
HEAD_EMBED, HEAD_CHANNELS, CLASSES = 32, 16, 7
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


# -- their architecture ----------------------------------------------------------------------------
class OverlapPatchEmbed(nn.Module):
    def __init__(self, patch, stride, cin, dim):
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, patch, stride, padding=patch // 2)
        self.norm = nn.LayerNorm(dim)  # eps 1e-5

    def forward(self, x):
        x = self.proj(x)
        return self.norm(x.flatten(2).transpose(1, 2)), x.shape[2], x.shape[3]


class Attention(nn.Module):
    def __init__(self, dim, heads, sr_ratio):
        super().__init__()
        self.heads, self.sr_ratio = heads, sr_ratio
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if sr_ratio > 1:
            self.sr = nn.Conv2d(dim, dim, sr_ratio, sr_ratio)
            self.norm = nn.LayerNorm(dim)  # eps 1e-5

    def forward(self, x, h, w):
        b, n, c = x.shape
        d = c // self.heads
        q = self.q(x).reshape(b, n, self.heads, d).transpose(1, 2)
        if self.sr_ratio > 1:
            x = self.sr(x.transpose(1, 2).reshape(b, c, h, w))
            x = self.norm(x.flatten(2).transpose(1, 2))
        k, v = self.kv(x).reshape(b, -1, 2, self.heads, d).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * d ** -0.5).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class DWConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, groups=dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        return self.dwconv(x.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.dwconv = nn.Linear(dim, hidden), DWConv(hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        return self.fc2(F.gelu(self.dwconv(self.fc1(x), h, w)))


class Block(nn.Module):
    def __init__(self, dim, heads, sr_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads, sr_ratio)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, 4 * dim)

    def forward(self, x, h, w):
        x = x + self.attn(self.norm1(x), h, w)
        return x + self.mlp(self.norm2(x), h, w)


class TheirMiT(nn.Module):
    def __init__(self):
        super().__init__()
        cin = 3
        for i, (dim, depth, heads, sr) in enumerate(zip(DIMS, DEPTHS, HEADS, SR), 1):
            setattr(self, f'patch_embed{i}', OverlapPatchEmbed(7 if i == 1 else 3,
                                                               4 if i == 1 else 2, cin, dim))
            setattr(self, f'block{i}', nn.ModuleList(Block(dim, heads, sr) for _ in range(depth)))
            setattr(self, f'norm{i}', nn.LayerNorm(dim, eps=1e-6))
            cin = dim

    def forward(self, x):
        outs = []
        for i in range(1, 5):
            x, h, w = getattr(self, f'patch_embed{i}')(x)
            for block in getattr(self, f'block{i}'):
                x = block(x, h, w)
            x = getattr(self, f'norm{i}')(x)
            x = x.transpose(1, 2).reshape(x.shape[0], -1, h, w)
            outs.append(x)
        return outs


class MLP(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.proj = nn.Linear(cin, dim)

    def forward(self, x):
        return self.proj(x.flatten(2).transpose(1, 2))


class ConvBNReLU(nn.Module):  # mmcv's ConvModule: conv (no bias before BN) + bn + ReLU
    def __init__(self, cin, cout, k, dilation=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=dilation * (k // 2), dilation=dilation,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SepConv(nn.Module):
    def __init__(self, cin, cout, dilation):
        super().__init__()
        self.depthwise_conv = ConvBNReLU(cin, cin, 3, dilation, groups=cin)
        self.pointwise_conv = ConvBNReLU(cin, cout, 1)

    def forward(self, x):
        return self.pointwise_conv(self.depthwise_conv(x))


class ASPPWrapper(nn.Module):
    def __init__(self, cin, channels, dilations=(1, 6, 12, 18)):
        super().__init__()
        self.aspp_modules = nn.ModuleList(
            ConvBNReLU(cin, channels, 1) if d == 1 else SepConv(cin, channels, d)
            for d in dilations)
        self.bottleneck = ConvBNReLU(len(dilations) * channels, channels, 3)

    def forward(self, x):
        return self.bottleneck(torch.cat([m(x) for m in self.aspp_modules], 1))


class TheirDAFormerHead(nn.Module):
    """``fusion='aspp'``: daformer_sepaspp; ``'conv'``: HRDA's scale attention (1x1 ConvModule)."""

    def __init__(self, fusion='aspp', embed=HEAD_EMBED, channels=HEAD_CHANNELS, classes=CLASSES):
        super().__init__()
        self.embed_layers = nn.ModuleDict({str(i): MLP(c, embed) for i, c in enumerate(DIMS)})
        self.fuse_layer = ASPPWrapper(4 * embed, channels) if fusion == 'aspp' \
            else ConvBNReLU(4 * embed, channels, 1)
        self.conv_seg = nn.Conv2d(channels, classes, 1)

    def forward(self, feats):
        size = feats[0].shape[2:]
        embedded = []
        for i, x in enumerate(feats):
            e = self.embed_layers[str(i)](x).transpose(1, 2).reshape(x.shape[0], -1, *x.shape[2:])
            embedded.append(F.interpolate(e, size, mode='bilinear', align_corners=False))
        return self.conv_seg(self.fuse_layer(torch.cat(embedded, 1)))


class TheirSegmentor(nn.Module):
    def __init__(self, hrda=False):
        super().__init__()
        self.backbone = TheirMiT()
        if hrda:
            self.decode_head = nn.Module()
            self.decode_head.head = TheirDAFormerHead()
            self.decode_head.scale_attention = TheirDAFormerHead('conv', embed=24, channels=24)
        else:
            self.decode_head = TheirDAFormerHead()

    def forward(self, x):
        return self.decode_head(self.backbone(x))


def randomised(module, seed, patch_scale=0.02):
    """Random weights and BN statistics, in eval mode. The patch embeddings get small weights
    (``patch_scale``), so their LayerNorms see a small variance and their eps shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, m in module.named_modules():
            if isinstance(m, (nn.LayerNorm, nn.BatchNorm2d)):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape, generator=g))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=g))
                    m.num_batches_tracked.fill_(seed + 1)
            elif isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                scale = patch_scale if name.endswith('.proj') and 'patch_embed' in name else 1.0
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * scale / fan_in ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(0.1 * scale * torch.randn(m.bias.shape, generator=g))
    return module.eval()


# -- checkpoints and our network -------------------------------------------------------------------
def uda_checkpoint(path, hrda=False, extra=None, meta=None):
    """Their UDA wrapper's checkpoint: student, EMA teacher (other weights), ImageNet FD model."""
    student, teacher = randomised(TheirSegmentor(hrda), 0), randomised(TheirSegmentor(hrda), 1)
    state = {f'model.{k}': v for k, v in student.state_dict().items()}
    state.update({f'ema_model.{k}': v for k, v in teacher.state_dict().items()})
    # their feature-distance model: an ImageNet backbone
    state.update({f'imnet_model.{k}': v for k, v in TheirMiT().state_dict().items()})
    state.update(extra or {})
    torch.save(dict(state_dict=state, meta=meta if meta is not None else dict(
        iter=40000, CLASSES=tuple(f'c{i}' for i in range(CLASSES)),
        PALETTE=[[i, i, i] for i in range(CLASSES)]), optimizer={}), path)
    return str(path), student, teacher


def our_segmentor_cfg(backbone_type='SegFormerMiT'):
    """Our DAFormer model base (configs/_base_/models/daformer_sepaspp_mitb5.py) at test size."""
    seg = Config.fromfile(MODEL_BASE).segmentor
    seg.backbone.update(type=backbone_type, embed_dims=EMBED, num_layers=DEPTHS, num_heads=HEADS,
                        init_cfg=None)
    seg.decode_head.update(in_channels=DIMS, embed_dims=HEAD_EMBED, channels=HEAD_CHANNELS,
                           num_classes=CLASSES)
    seg.data_preprocessor.size = (128, 256)
    return seg


def our_segmentor(state_dict, backbone_type='SegFormerMiT'):
    seg = our_segmentor_cfg(backbone_type)
    seg.pop('data_preprocessor')
    model = MODELS.build(seg)
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def write_config(path, model):
    Config(dict(model=model, default_scope='mmseg',
                custom_imports=dict(imports=['mmseg_uda'], allow_failed_imports=False))).dump(path)
    return str(path)


def images(n=2, size=(64, 96), seed=3):
    return torch.randn(n, 3, *size, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def max_diff(ours, theirs, x):
    return (ours._forward(x) - theirs(x)).abs().max().item()


# -- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize('network', ['student', 'teacher'])
def test_converted_network_computes_their_logits(tmp_path, network, capsys):
    src, student, teacher = uda_checkpoint(tmp_path / 'daformer.pth')
    dst = str(tmp_path / 'out.pth')
    cfg_path = write_config(tmp_path / 'tiny.py', our_segmentor_cfg('MixVisionTransformer'))
    conv.main([src, dst, '--network', network, '--config', cfg_path])
    out = capsys.readouterr().out
    saved = torch.load(dst, weights_only=False)
    assert set(saved) == {'state_dict', 'meta'}
    assert {k.split('.')[0] for k in saved['state_dict']} == {'backbone', 'decode_head'}
    assert saved['meta']['dataset_meta']['classes'][2] == 'c2'
    assert saved['meta']['converted_from']['networks'] == [network]
    theirs = student if network == 'student' else teacher
    ours = our_segmentor(saved['state_dict'])
    assert max_diff(ours, theirs, images()) < 1e-5
    # the other network is different weights: the selection matters
    other = teacher if network == 'student' else student
    assert max_diff(ours, other, images()) > 1e-2
    # the summary: network, head type, what was dropped and what was not selected
    assert f'converted the {network}' in out and 'DAFormerHead' in out and 'sepaspp' in out
    assert 'imnet_model.*' in out and ('ema_model.*' if network == 'student' else 'model.*') in out
    # the written config: SegFormerMiT, no ImageNet init, and it loads the checkpoint as it is
    written = Config.fromfile(osp.splitext(dst)[0] + '.py')
    assert written.model.backbone.type == 'SegFormerMiT'
    assert written.model.backbone.init_cfg is None
    assert 'mmseg_uda.models.backbones' in written.custom_imports.imports


def test_their_layernorm_eps_needs_segformer_mit(tmp_path):
    """mmseg's MiT (eps 1e-6 in every norm) computes something else; SegFormerMiT does not."""
    src, student, _ = uda_checkpoint(tmp_path / 'daformer.pth')
    checkpoint, _ = conv.convert_checkpoint(src)
    plain = our_segmentor(checkpoint['state_dict'], 'MixVisionTransformer')
    fixed = our_segmentor(checkpoint['state_dict'], 'SegFormerMiT')
    assert max_diff(fixed, student, images()) < 1e-5
    assert max_diff(plain, student, images()) > 1e-3
    eps = {n: m.eps for n, m in fixed.backbone.named_modules() if isinstance(m, nn.LayerNorm)}
    assert eps['layers.0.0.norm'] == eps['layers.2.1.0.attn.norm'] == 1e-5
    assert eps['layers.0.1.0.norm1'] == eps['layers.3.2'] == 1e-6
    assert 'layers.3.1.0.attn.norm' not in eps  # sr_ratio 1: no spatial reduction


def test_segformer_mit_rejects_another_norm():
    with pytest.raises(TypeError, match=r'layers\.0\.0\.norm is BatchNorm1d'):
        MODELS.build(dict(type='SegFormerMiT', embed_dims=8, num_layers=[1] * 4,
                          num_heads=HEADS, norm_cfg=dict(type='BN1d')))


def test_hrda_checkpoint_keys_shapes_and_scale_attention(tmp_path, capsys):
    src, student, _ = uda_checkpoint(tmp_path / 'hrda.pth', hrda=True)
    checkpoint, info = conv.convert_checkpoint(src)
    state = checkpoint['state_dict']
    head = info['networks']['student']['head']
    assert head['type'] == 'HRDAHead'
    assert head['head']['fusion'] == 'sepaspp' and head['scale_attention']['fusion'] == 'conv'
    assert head['scale_attention']['num_outputs'] == CLASSES
    # every key and shape of our DAFormerHeads under HRDAHead's attribute names
    ours_head = DAFormerHead(in_channels=DIMS, channels=HEAD_CHANNELS, embed_dims=HEAD_EMBED,
                             num_classes=CLASSES)
    ours_attn = DAFormerHead(in_channels=DIMS, channels=24, embed_dims=24, fusion_type='conv',
                             num_classes=CLASSES)
    backbone = MODELS.build(dict(our_segmentor_cfg().backbone))
    expected = {f'backbone.{k}': v.shape for k, v in backbone.state_dict().items()}
    expected.update({f'decode_head.head.{k}': v.shape for k, v in ours_head.state_dict().items()})
    expected.update({f'decode_head.scale_attention.{k}': v.shape
                     for k, v in ours_attn.state_dict().items()})
    assert {k: v.shape for k, v in state.items()} == expected
    # the scale attention (before its sigmoid) computes what theirs does
    ours_attn.load_state_dict({k[len('decode_head.scale_attention.'):]: v for k, v in state.items()
                               if k.startswith('decode_head.scale_attention.')})
    with torch.no_grad():
        feats = student.backbone(images())
        theirs = student.decode_head.scale_attention(feats)
        assert (ours_attn.eval()(feats) - theirs).abs().max() < 1e-5


@pytest.mark.skipif('HRDAHead' not in MODELS.module_dict, reason='no HRDAHead registered')
def test_hrda_checkpoint_loads_into_our_hrda_head(tmp_path):
    src = uda_checkpoint(tmp_path / 'hrda.pth', hrda=True)[0]
    state = conv.convert_checkpoint(src)[0]['state_dict']
    head = dict(our_segmentor_cfg().decode_head)
    hrda = MODELS.build(dict(type='HRDAHead', head=head,
                             attention=dict(channels=24, embed_dims=24)))
    hrda.load_state_dict({k[len('decode_head.'):]: v for k, v in state.items()
                          if k.startswith('decode_head.')}, strict=True)


def test_embeddings_keyed_by_their_in_index():
    """Their ModuleDict is keyed by backbone level (in_index), ours by position."""
    pending = {f'embed_layers.{i}.proj.weight': torch.full((4, c), float(i))
               for i, c in zip((1, 2, 3), (5, 6, 7))}
    out, info = conv.convert_daformer_head(pending, 'decode_head.')
    assert info['in_index'] == [1, 2, 3] and info['in_channels'] == [5, 6, 7]
    assert [out[f'embed_layers.{j}.weight'].shape for j in range(3)] == [
        (4, c, 1, 1) for c in (5, 6, 7)]
    assert not pending


def test_uda_format_loads_into_a_dacs_model(tmp_path, capsys):
    src, student, teacher = uda_checkpoint(tmp_path / 'daformer.pth')
    dst = str(tmp_path / 'uda.pth')
    cfg = Config.fromfile(TOY_DACS)
    cfg.model.segmentor = our_segmentor_cfg()
    cfg_path = str(tmp_path / 'dacs_tiny.py')
    cfg.dump(cfg_path)
    conv.main([src, dst, '--format', 'uda', '--config', cfg_path])
    state = torch.load(dst, weights_only=False)['state_dict']
    tops = {k.split('.')[0] for k in state}
    assert tops == {'student', 'teacher', 'draw_seed', 'steps_done'}
    assert int(state['teacher.steps']) == 40000  # the ramp stays at its final momentum
    model = MODELS.build(Config.fromfile(osp.splitext(dst)[0] + '.py').model)
    model.load_state_dict(state, strict=True)
    with torch.no_grad():
        x = images()
        assert (model.student.eval()._forward(x) - student(x)).abs().max() < 1e-5
        assert (model.teacher.module.eval()._forward(x) - teacher(x)).abs().max() < 1e-5
    with pytest.raises(ValueError, match='drop --network'):
        conv.convert_checkpoint(src, 'teacher', 'uda')
    with pytest.raises(ConversionError, match='give --iter N'):
        conv.convert_checkpoint(uda_checkpoint(tmp_path / 'noiter.pth', meta={})[0], fmt='uda')
    _, info = conv.convert_checkpoint(tmp_path / 'noiter.pth', fmt='uda', iters=7)
    assert info['teacher_steps'] == 7


def test_plain_checkpoint(tmp_path):
    their = randomised(TheirSegmentor(), 5)
    src = str(tmp_path / 'source_only.pth')
    torch.save(dict(state_dict=their.state_dict(), meta=dict(iter=100)), src)
    checkpoint, info = conv.convert_checkpoint(src)
    assert info['layout'] == 'plain' and not info['dropped']
    assert max_diff(our_segmentor(checkpoint['state_dict']), their, images()) < 1e-5
    for kwargs in (dict(network='teacher'), dict(fmt='uda')):
        with pytest.raises(ConversionError, match='plain .non-UDA. checkpoint.*--format mmseg'):
            conv.convert_checkpoint(src, **kwargs)


def test_errors(tmp_path):
    junk = str(tmp_path / 'junk.pth')
    torch.save(dict(state_dict={'encoder.layer1.weight': torch.zeros(1)}), junk)
    with pytest.raises(ConversionError, match=r"no recognisable keys.*'encoder\.layer1\.weight'"):
        conv.convert_checkpoint(junk)
    # a key no rule maps is listed, not dropped; --drop leaves it out on purpose
    extra = {'model.backbone.head.weight': torch.zeros(3, 64),
             'mic.teacher.ema_model.conv_seg.weight': torch.zeros(1)}
    src = uda_checkpoint(tmp_path / 'extra.pth', extra=extra)[0]
    with pytest.raises(ConversionError, match=r"belong to no network.*'mic\.teacher"):
        conv.convert_checkpoint(src)
    with pytest.raises(ConversionError, match=r"extra\.pth: 1 keys have no counterpart.*"
                       r"\['model\.backbone\.head\.weight'\]"):
        conv.convert_checkpoint(src, drop=['mic.'])
    checkpoint, info = conv.convert_checkpoint(src, drop=['mic.', 'model.backbone.head.'])
    assert info['dropped'] == {'imnet_model.': len(TheirMiT().state_dict()), 'mic.': 1,
                               'model.backbone.head.': 1}
    with pytest.raises(ConversionError, match="--drop 'nothing.' matches no key"):
        conv.convert_checkpoint(src, drop=['nothing.'])
    # shapes: q and kv that do not make one in_proj; a plain ASPP branch; the config's network
    bad_kv = {'model.backbone.block2.1.attn.kv.weight': torch.zeros(30, 16)}
    src = uda_checkpoint(tmp_path / 'kv.pth', extra=bad_kv)[0]
    with pytest.raises(ConversionError, match=r'block2\.1\.attn\.q\.weight \(16, 16\) and '
                       r'model\.backbone\.block2\.1\.attn\.kv\.weight \(30, 16\)'):
        conv.convert_checkpoint(src)
    aspp = {'model.decode_head.fuse_layer.aspp_modules.0.conv.weight': torch.zeros(16, 128, 3, 3)}
    src = uda_checkpoint(tmp_path / 'aspp.pth', extra=aspp)[0]
    with pytest.raises(ConversionError, match=r'aspp_modules\.0\.conv\.weight has a \(3, 3\) '
                       'kernel: a plain'):
        conv.convert_checkpoint(src)
    src = uda_checkpoint(tmp_path / 'ok.pth')[0]
    seg = our_segmentor_cfg()
    seg.decode_head.num_classes = 19
    cfg_path = write_config(tmp_path / 'nineteen.py', seg)
    with pytest.raises(ConversionError, match=r'decode_head\.conv_seg\.weight: converted '
                       r'\(7, 16, 1, 1\), model \(19, 16, 1, 1\)'):
        conv.main([src, str(tmp_path / 'x.pth'), '--config', cfg_path])
    assert not osp.exists(tmp_path / 'x.pth')  # nothing written when the check fails


def test_test_tool_evaluates_the_converted_checkpoint(tmp_path, toy_root):
    """tools/test.py with the config the converter writes predicts as their network does."""
    src, student, _ = uda_checkpoint(tmp_path / 'daformer.pth')
    cfg = Config.fromfile(TOY_SOURCE_ONLY)
    cfg.model = our_segmentor_cfg('MixVisionTransformer')
    cfg.test_dataloader.dataset.data_root = toy_root
    cfg.test_dataloader.update(num_workers=0, persistent_workers=False)
    cfg.test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
    base = str(tmp_path / 'toy_daformer.py')
    cfg.dump(base)
    dst = str(tmp_path / 'converted' / 'daformer_student.pth')
    conv.main([src, dst, '--config', base])
    preds = tmp_path / 'preds'
    out = run([sys.executable, osp.join(REPO, 'tools', 'test.py'), osp.splitext(dst)[0] + '.py',
               dst, '--out', str(preds)], cwd=str(tmp_path))
    assert 'mIoU' in out and 'missing keys' not in out and 'unexpected key' not in out
    pngs = sorted(preds.glob('*.png'))
    assert len(pngs) == 4
    agree = []
    for png in pngs:
        img = cv2.imread(osp.join(toy_root, 'target', 'val', 'images', png.name))[..., ::-1]
        x = (torch.from_numpy(img.copy()).float() - torch.tensor(MEAN)) / torch.tensor(STD)
        with torch.no_grad():
            logits = student(x.permute(2, 0, 1)[None])
            logits = F.interpolate(logits, img.shape[:2], mode='bilinear', align_corners=False)
        agree.append(np.mean(cv2.imread(str(png), 0) == logits[0].argmax(0).numpy()))
    assert min(agree) > 0.999, agree
