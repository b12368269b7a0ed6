import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.sep_aspp_head import DepthwiseSeparableASPPModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS


class SepASPPFusion(nn.Module):
    """ASPP with depthwise-separable dilated convs and no image pooling, then a 3x3 bottleneck.

    Dilation 1 is a 1x1 ``ConvModule``, the other rates are 3x3
    ``DepthwiseSeparableConvModule`` s (mmseg's ``DepthwiseSeparableASPPModule``); the branch
    outputs are concatenated and reduced by a 3x3 bottleneck.

    Args:
        in_channels (int): Input channels.
        channels (int): Channels of every branch and of the output.
        dilations (tuple[int]): Dilation rate of each branch.
        sep_bottleneck (bool): Use a depthwise-separable 3x3 bottleneck instead of a plain one.
        norm_cfg (dict | None): Norm layers config.
        act_cfg (dict | None): Activation layers config.
        conv_cfg (dict | None): Conv layers config.
    """

    def __init__(self, in_channels, channels, dilations, sep_bottleneck, norm_cfg, act_cfg,
                 conv_cfg=None):
        super().__init__()
        self.aspp_modules = DepthwiseSeparableASPPModule(
            dilations=dilations, in_channels=in_channels, channels=channels,
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        bottleneck = DepthwiseSeparableConvModule if sep_bottleneck else ConvModule
        self.bottleneck = bottleneck(len(dilations) * channels, channels, 3, padding=1,
                                     norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x):
        """Forward function."""
        return self.bottleneck(torch.cat(self.aspp_modules(x), dim=1))


@MODELS.register_module()
class DAFormerHead(BaseDecodeHead):
    """DAFormer decoder with context-aware multi-level feature fusion.

    This head is the decoder of `DAFormer <https://arxiv.org/abs/2111.14887>`_ (Hoyer et al.,
    CVPR 2022), ``daformer_sepaspp``: every selected level is embedded to ``embed_dims`` by a
    linear layer (1x1 conv with bias, no norm, no activation), bilinearly up-sampled to the
    size of the first (1/4) level and concatenated; a fusion module then mixes the context and
    ``cls_seg`` (dropout + 1x1 conv) predicts the logits at 1/4 resolution.

    Fusion types: ``'sepaspp'`` (DAFormer): ASPP without image pooling, dilation 1 a 1x1 conv,
    the other rates depthwise-separable 3x3 convs, each ``channels`` wide with BN + ReLU,
    concatenated and reduced to ``channels`` by a 3x3 conv + BN + ReLU. ``'conv'``: a single
    1x1 ConvModule (BN + ReLU), DAFormer's simplest ablation.

    Args:
        in_channels (Sequence[int]): Channels of the selected levels. Default: MiT-B5's
            [64, 128, 320, 512].
        in_index (Sequence[int]): Indices of the selected backbone outputs. Default: [0, 1, 2, 3].
        channels (int): Channels after the fusion module, before ``conv_seg``. Default: 256.
        embed_dims (int | Sequence[int]): Embedding channels of each level. Default: 256.
        fusion_type (str): ``'sepaspp'`` or ``'conv'``. Default: 'sepaspp'.
        fusion_dilations (tuple[int]): Dilations of the ``'sepaspp'`` branches.
            Default: (1, 6, 12, 18).
        sep_bottleneck (bool): Make the 3x3 bottleneck after the sep-ASPP depthwise-separable.
            DAFormer's released code uses a plain 3x3 ConvModule there. Default: False.
        dropout_ratio (float): Dropout ratio before ``conv_seg``. Default: 0.1.
        norm_cfg (dict): Norm layers config. Default: BN.
        align_corners (bool): ``align_corners`` of the up-sampling. Default: False.
        **kwargs: Other arguments of :class:`BaseDecodeHead` (``num_classes`` is required).
    """

    def __init__(self,
                 in_channels=(64, 128, 320, 512),
                 in_index=(0, 1, 2, 3),
                 channels=256,
                 embed_dims=256,
                 fusion_type='sepaspp',
                 fusion_dilations=(1, 6, 12, 18),
                 sep_bottleneck=False,
                 dropout_ratio=0.1,
                 norm_cfg=dict(type='BN', requires_grad=True),
                 align_corners=False,
                 input_transform='multiple_select',
                 **kwargs):
        assert input_transform == 'multiple_select'
        super().__init__(list(in_channels), channels, in_index=list(in_index),
                         input_transform=input_transform, dropout_ratio=dropout_ratio,
                         norm_cfg=norm_cfg, align_corners=align_corners, **kwargs)
        if isinstance(embed_dims, int):
            embed_dims = [embed_dims] * len(self.in_channels)
        assert len(embed_dims) == len(self.in_channels)
        self.embed_layers = nn.ModuleList(
            nn.Conv2d(c, e, kernel_size=1) for c, e in zip(self.in_channels, embed_dims))
        self.fusion_type = fusion_type
        if fusion_type == 'sepaspp':
            self.fusion = SepASPPFusion(sum(embed_dims), channels, tuple(fusion_dilations),
                                        sep_bottleneck, norm_cfg=self.norm_cfg,
                                        act_cfg=self.act_cfg, conv_cfg=self.conv_cfg)
        elif fusion_type == 'conv':
            self.fusion = ConvModule(sum(embed_dims), channels, 1, conv_cfg=self.conv_cfg,
                                     norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        else:
            raise ValueError(f"fusion_type must be 'sepaspp' or 'conv', got {fusion_type!r}")

    def forward(self, inputs):
        """Forward function."""
        inputs = self._transform_inputs(inputs)
        size = inputs[0].shape[2:]
        feats = []
        for x, embed in zip(inputs, self.embed_layers):
            x = embed(x)
            if x.shape[2:] != size:
                x = resize(x, size=size, mode='bilinear', align_corners=self.align_corners)
            feats.append(x)
        return self.cls_seg(self.fusion(torch.cat(feats, dim=1)))
