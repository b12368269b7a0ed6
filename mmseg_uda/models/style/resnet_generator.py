"""CUT generator 𝒢: ResNet-9-blocks with anti-aliased sampling (CONFETI spec §2.9; CUT, Park et al.
ECCV 2020, Appendix), plus the blur layers and the weight init shared by the other CUT networks."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

# the 1-D binomial taps of the anti-aliasing filters (spec §2.9: down [1,2,1], up [1,3,3,1])
DOWN_TAPS = (1., 2., 1.)
UP_TAPS = (1., 3., 3., 1.)


def binomial_filter(taps):
    """The separable 2-D filter outer(taps, taps), normalised to sum 1, as a (k, k) tensor."""
    t = torch.tensor(taps, dtype=torch.float32)
    filt = t[:, None] * t[None, :]
    return filt / filt.sum()


def cut_init(module, gain=0.02):
    """CUT's init (``init_type='xavier'``, spec §2.9): xavier_normal(gain) weights, zero biases,
    on every Conv/ConvTranspose/Linear of ``module``. The blur filters are buffers, left as they
    are."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_normal_(m.weight, gain=gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class CUTInitMixin:
    """``init_weights`` for the CUT networks of this package.

    Without ``init_cfg`` the module is CUT-initialised in its constructor (as CUT's ``init_net``)
    and marked initialised, so a later ``init_weights()`` of an enclosing mmengine model does not
    overwrite weights loaded in between; calling ``init_weights()`` on the module itself always
    re-initialises. With ``init_cfg`` (e.g. ``dict(type='Pretrained', ...)``) mmengine's mechanism
    is used instead.
    """

    def init_weights(self):
        if self.init_cfg:
            super().init_weights()
            return
        cut_init(self, self.init_gain)
        self._is_init = True


class BlurPool2d(nn.Module):
    """Anti-aliased down-sampling (CUT's ``Downsample``; Zhang, ICML 2019): reflection-pad 1, the
    depthwise [1,2,1]⊗[1,2,1]/16 blur, then stride 2. (B, C, H, W) → (B, C, ⌈H/2⌉, ⌈W/2⌉).

    Args:
        channels (int): number of channels (the blur is per channel, no mixing).
    """

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        # a persistent buffer named as CUT's, so CUT checkpoints load with strict=True
        self.register_buffer('filt', binomial_filter(DOWN_TAPS).repeat(channels, 1, 1, 1))

    def forward(self, x):
        x = F.pad(x, (1, 1, 1, 1), mode='reflect')
        return F.conv2d(x, self.filt.to(x.dtype), stride=2, groups=self.channels)


class BlurUpsample2d(nn.Module):
    """Anti-aliased ×2 up-sampling (CUT's ``Upsample``): replicate-pad 1, then a depthwise
    transposed conv with stride 2 and the [1,3,3,1]⊗[1,3,3,1]/64 blur scaled by stride² = 4,
    cropped to (B, C, 2H, 2W).

    Per axis the taps are [¼, ¾, ¾, ¼], so the output is ¾·x[k] + ¼·x[k∓1]: this equals bilinear
    ×2 up-sampling with ``align_corners=False`` (edges clamped), as the tests check.

    Args:
        channels (int): number of channels (the filter is per channel, no mixing).
    """

    def __init__(self, channels):
        super().__init__()
        self.channels = channels
        filt = binomial_filter(UP_TAPS) * 4  # × stride²: each output pixel's weights sum to 1
        self.register_buffer('filt', filt.repeat(channels, 1, 1, 1))

    def forward(self, x):
        x = F.pad(x, (1, 1, 1, 1), mode='replicate')
        # (H+2) padded rows → 2H+2 rows with padding 2; one border row/column off each side → 2H
        out = F.conv_transpose2d(x, self.filt.to(x.dtype), stride=2, padding=2,
                                 groups=self.channels)
        return out[:, :, 1:-1, 1:-1]


def instance_norm(channels):
    """CUT's ``norm='instance'``: no affine parameters and no running statistics."""
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """reflect-pad 1, conv3×3, IN, ReLU, reflect-pad 1, conv3×3, IN, plus the identity skip.

    Args:
        channels (int): input = output channels.
    """

    def __init__(self, channels):
        super().__init__()
        self.conv_block = nn.Sequential(  # CUT's name, for checkpoint compatibility
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), instance_norm(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), instance_norm(channels))

    def forward(self, x):
        return x + self.conv_block(x)


@MODELS.register_module()
class ResnetGenerator(CUTInitMixin, BaseModule):
    """CUT generator 𝒢 = 𝒢_dec ∘ 𝒢_enc (CONFETI spec §2.9; ``resnet_9blocks``, ngf 64, no dropout).

    All layers are one ``nn.Sequential`` (``self.model``) whose indices match the spec's table
    (defaults ngf 64, 9 blocks)::

        0 ReflectionPad(3)      1 Conv7×7 3→64     2 IN   3 ReLU
        4 Conv3×3 64→128        5 IN   6 ReLU      7 BlurPool2d
        8 Conv3×3 128→256       9 IN  10 ReLU     11 BlurPool2d
        12 … 12+num_blocks−1    ResnetBlock(256)
        then twice [BlurUpsample2d, Conv3×3 (256→128, 128→64), IN, ReLU]
        ReflectionPad(3), Conv7×7 64→3, Tanh

    Convs have biases (the norm is InstanceNorm, CUT's ``use_bias``); the stride-1 3×3 convs pad
    with zeros, every other padding reflects. Input and output are RGB in [−1, 1] (see
    :mod:`.range` for the mmseg conversion, spec §6 item 14). ``layer_channels[l]`` is the output
    width of ``model[l]``. Parameter and buffer names are those of CUT's ``ResnetGenerator``, so its
    ``net_G`` checkpoints load with ``strict=True``.

    Args:
        in_channels (int): input channels. Default: 3.
        out_channels (int): output channels. Default: 3.
        ngf (int): filters of the first conv. Default: 64.
        num_blocks (int): residual blocks (9 = ``resnet_9blocks``, 6 = ``resnet_6blocks``).
            Default: 9.
        init_gain (float): gain of the xavier_normal init. Default: 0.02.
        init_cfg (dict, optional): mmengine init config; replaces the CUT init. Default: None.
    """

    NUM_DOWNSAMPLING = 2

    def __init__(self, in_channels=3, out_channels=3, ngf=64, num_blocks=9, init_gain=0.02,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels), ('out_channels', out_channels),
                            ('ngf', ngf), ('num_blocks', num_blocks)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'ResnetGenerator: {name} must be a positive int, got {value!r}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.ngf, self.num_blocks, self.init_gain = ngf, num_blocks, init_gain

        layers, channels = [], []  # channels[i] = output channels of layers[i]

        def add(layer, out_ch):
            layers.append(layer)
            channels.append(out_ch)

        add(nn.ReflectionPad2d(3), in_channels)
        add(nn.Conv2d(in_channels, ngf, 7), ngf)
        add(instance_norm(ngf), ngf)
        add(nn.ReLU(), ngf)  # not in place: encode() may return the IN output before it
        ch = ngf
        for _ in range(self.NUM_DOWNSAMPLING):
            add(nn.Conv2d(ch, ch * 2, 3, padding=1), ch * 2)
            ch *= 2
            add(instance_norm(ch), ch)
            add(nn.ReLU(), ch)
            add(BlurPool2d(ch), ch)
        self.first_block = len(layers)
        for _ in range(num_blocks):
            add(ResnetBlock(ch), ch)
        for _ in range(self.NUM_DOWNSAMPLING):
            add(BlurUpsample2d(ch), ch)
            add(nn.Conv2d(ch, ch // 2, 3, padding=1), ch // 2)
            ch //= 2
            add(instance_norm(ch), ch)
            add(nn.ReLU(), ch)
        add(nn.ReflectionPad2d(3), ch)
        add(nn.Conv2d(ch, out_channels, 7), out_channels)
        add(nn.Tanh(), out_channels)
        self.model = nn.Sequential(*layers)
        self.layer_channels = tuple(channels)
        if init_cfg is None:
            self.init_weights()

    def forward(self, x):
        """Translate images.

        Args:
            x (Tensor): (B, in_channels, H, W) in [−1, 1]; H and W multiples of 4.

        Returns:
            Tensor: (B, out_channels, H, W) in [−1, 1].
        """
        self._check_input(x)
        if x.shape[-2] % 4 or x.shape[-1] % 4:
            raise ValueError('ResnetGenerator: H and W of x must be multiples of 4 (two ×2 '
                             f'down-samplings), got {tuple(x.shape[-2:])}')
        return self.model(x)

    def encode(self, x, layers=(0, 4, 8, 12, 16)):
        """Intermediate features of 𝒢_enc for PatchNCE (spec §2.9, Eq. 10 of CUT).

        The feature of index l is the output of ``self.model[l]`` after ``self.model[0..l]`` were
        applied in order (CUT's ``encode_only``): l = 0 is the reflection-padded input (H+6, W+6),
        4 and 8 the raw outputs of the two stride-1 3×3 convs *before* their IN (H×W and H/2×W/2),
        12 and 16 the outputs of the 1st and 5th residual blocks (H/4×W/4). Channels with the
        defaults: 3/128/256/256/256. The pass stops after the deepest requested layer.

        Args:
            x (Tensor): (B, in_channels, H, W) in [−1, 1].
            layers (Sequence[int]): layer indices into ``self.model``.

        Returns:
            list[Tensor]: one (B, C_l, H_l, W_l) feature per entry of ``layers``, in that order.
        """
        self._check_input(x)
        layers = tuple(layers)
        if not layers or any(not isinstance(i, int) or not 0 <= i < len(self.model)
                             for i in layers):
            raise ValueError(f'ResnetGenerator.encode: layers must be a non-empty sequence of '
                             f'indices in [0, {len(self.model)}), got {layers}')
        wanted, found = set(layers), {}
        for idx, layer in enumerate(self.model[:max(layers) + 1]):
            x = layer(x)
            if idx in wanted:
                found[idx] = x
        return [found[i] for i in layers]

    def _check_input(self, x):
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'ResnetGenerator: x must be (B, {self.in_channels}, H, W), got '
                             f'{tuple(x.shape)}')
