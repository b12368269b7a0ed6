"""CUT discriminator ℰ: the anti-aliased PatchGAN "basic" (CONFETI spec §2.9)."""
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

from .resnet_generator import BlurPool2d, CUTInitMixin, instance_norm


@MODELS.register_module()
class PatchDiscriminator(CUTInitMixin, BaseModule):
    """PatchGAN ℰ (CUT's ``basic`` ``NLayerDiscriminator``, anti-aliased; spec §2.9).

    With the defaults (ndf 64, 3 layers), every conv 4×4, stride 1, zero padding 1::

        conv 3→64,    LReLU(0.2), BlurPool2d
        conv 64→128,  IN, LReLU,  BlurPool2d
        conv 128→256, IN, LReLU,  BlurPool2d
        conv 256→512, IN, LReLU
        conv 512→1

    Widths double per layer up to 8·ndf. IN has no affine/running stats, convs have biases.
    Output: one real/fake logit per patch (feed it to :func:`.gan_loss.lsgan_d_loss`).
    Spatially 32 → 2, 64 → 6, 128 → 14, 256 → 30. Names follow CUT's ``NLayerDiscriminator``
    (``model.<i>``), so its ``net_D`` checkpoints load.

    Args:
        in_channels (int): image channels. Default: 3.
        ndf (int): filters of the first conv. Default: 64.
        num_layers (int): down-sampling conv layers (CUT's ``n_layers_D``). Default: 3.
        init_gain (float): gain of the xavier_normal init. Default: 0.02.
        init_cfg (dict, optional): mmengine init config; replaces the CUT init. Default: None.
    """

    def __init__(self, in_channels=3, ndf=64, num_layers=3, init_gain=0.02, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (('in_channels', in_channels), ('ndf', ndf),
                            ('num_layers', num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'PatchDiscriminator: {name} must be a positive int, got '
                                 f'{value!r}')
        self.in_channels, self.init_gain = in_channels, init_gain
        layers = [nn.Conv2d(in_channels, ndf, 4, padding=1), nn.LeakyReLU(0.2, inplace=True),
                  BlurPool2d(ndf)]
        ch = ndf
        for n in range(1, num_layers + 1):
            out = ndf * min(2 ** n, 8)
            layers += [nn.Conv2d(ch, out, 4, padding=1), instance_norm(out),
                       nn.LeakyReLU(0.2, inplace=True)]
            if n < num_layers:  # the last widening conv keeps its resolution
                layers.append(BlurPool2d(out))
            ch = out
        layers.append(nn.Conv2d(ch, 1, 4, padding=1))
        self.model = nn.Sequential(*layers)
        if init_cfg is None:
            self.init_weights()

    def forward(self, x):
        """Patch logits of images.

        Args:
            x (Tensor): (B, in_channels, H, W) in [−1, 1].

        Returns:
            Tensor: (B, 1, H', W') logits, one per receptive-field patch.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'PatchDiscriminator: x must be (B, {self.in_channels}, H, W), got '
                             f'{tuple(x.shape)}')
        return self.model(x)
