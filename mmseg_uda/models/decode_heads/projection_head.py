import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn


@MODELS.register_module()
class ProjectionHead(BaseModule):
    """Per-pixel projection MLP for contrastive losses: ``num_convs`` convs, L2-normalised output.

    The SimCLR-style head of CLDA (§5.2: 2 layers, 128-d) and RCCR (2048→2048→128), and T2S-DA's
    Conv-BN-ReLU blocks (``norm_cfg`` and ``final_act``). Hidden layers are conv (+ norm) + ReLU; the
    last layer is a plain conv unless ``final_act`` (then conv + norm + ReLU as the others).

    Args:
        in_channels (int): input channels (e.g. 2048 for ResNet-101 layer4).
        out_channels (int): embedding dimension. Default: 128.
        channels (int, optional): hidden width. Default: ``in_channels``.
        num_convs (int): number of layers (≥ 1). Default: 2.
        kernel_size (int): odd kernel of every conv, padded to keep the resolution. Default: 1
            (T2S-DA's unspecified kernel: 3, spec suggestion).
        norm_cfg (dict, optional): norm of the hidden layers (e.g. ``dict(type='BN')``). Default: none.
        final_act (bool): norm + ReLU after the last layer too. Default: False.
        normalize (bool): L2-normalise each pixel embedding. Default: True.
        in_index (int): which backbone output to project when given a list. Default: -1.
        bias (bool): bias of the last plain conv. Default: True (CONFETI's projection g: False).
    """

    def __init__(self, in_channels, out_channels=128, channels=None, num_convs=2, kernel_size=1,
                 norm_cfg=None, final_act=False, normalize=True, in_index=-1, bias=True,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if num_convs < 1:
            raise ValueError(f'ProjectionHead: num_convs must be >= 1, got {num_convs}')
        if kernel_size % 2 != 1:
            raise ValueError(f'ProjectionHead: kernel_size must be odd, got {kernel_size}')
        pad = kernel_size // 2
        channels = channels or in_channels
        widths = [in_channels] + [channels] * (num_convs - 1) + [out_channels]
        layers = []
        for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
            last = i == num_convs - 1
            if last and not final_act:
                layers.append(nn.Conv2d(cin, cout, kernel_size, padding=pad, bias=bias))
            else:
                layers.append(ConvModule(cin, cout, kernel_size, padding=pad, norm_cfg=norm_cfg,
                                         act_cfg=dict(type='ReLU')))
        self.convs = nn.Sequential(*layers)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.normalize = normalize
        self.in_index = in_index

    def forward(self, feats):
        """Embeddings (B, out_channels, h, w) of ``feats`` (a tensor or the backbone's list)."""
        x = feats[self.in_index] if isinstance(feats, (list, tuple)) else feats
        x = self.convs(x)
        return F.normalize(x, dim=1) if self.normalize else x
