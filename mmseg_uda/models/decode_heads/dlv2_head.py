from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS


@MODELS.register_module()
class DLV2Head(BaseDecodeHead):
    """DeepLabV2 ASPP classifier: parallel dilated 3x3 convs whose logits are summed.

    This head is the classifier of `DeepLabV2 <https://arxiv.org/abs/1606.00915>`_ (Chen et al.,
    TPAMI 2018): one 3x3 conv ``in_channels -> num_classes`` (with bias) per dilation rate,
    ``dilation = padding = d``, outputs **summed**; no BN, no activation, no image pooling, no 1x1
    branch and no dropout. Logits stay at the feature stride (1/8 for ResNet OS8); the segmentor
    and the loss up-sample them. The convs are initialised with Normal(0, 0.01), bias 0.

    Note:
        The classifier of the AdaptSegNet / DACS code base returns inside its loop over the
        branches, so only the dilation-6 and dilation-12 branches are summed. That reduced
        "dlv2red" head, ``dilations=(6, 12)``, is what the published DACS-family baselines
        actually run; full DeepLabV2 (and DAFormer's ``DLV2Head``) sum all four,
        ``dilations=(6, 12, 18, 24)`` (the default here).

    Args:
        dilations (tuple[int]): Dilation (= padding) of each 3x3 branch.
            Default: (6, 12, 18, 24).
        in_channels (int): Channels of the input feature map. Default: 2048.
        in_index (int): Index of the backbone output used. Default: 3.
        channels (int, optional): Accepted for config compatibility with other heads and
            ignored: the branches map ``in_channels`` straight to the classes (``out_channels``).
        dropout_ratio (float): Dropout2d ratio applied to the input feature map before the
            branches. DeepLabV2 has none. Default: 0.
        init_cfg (dict): Initialisation of the branch convs.
            Default: Normal(std=0.01) on ``aspp_modules``.
        **kwargs: Other arguments of :class:`BaseDecodeHead` (``num_classes`` is required);
            ``norm_cfg`` / ``act_cfg`` are not used by the branches.
    """

    def __init__(self,
                 dilations=(6, 12, 18, 24),
                 in_channels=2048,
                 in_index=3,
                 channels=None,
                 dropout_ratio=0,
                 init_cfg=dict(type='Normal', std=0.01, override=dict(name='aspp_modules')),
                 **kwargs):
        assert isinstance(dilations, (list, tuple)) and len(dilations) > 0
        assert all(d > 1 for d in dilations), 'DeepLabV2 branches are dilated 3x3 convs'
        assert kwargs.get('input_transform') is None, 'DLV2Head takes a single feature map'
        out_channels = kwargs.get('out_channels') or kwargs['num_classes']
        super().__init__(in_channels, out_channels, in_index=in_index,
                         dropout_ratio=dropout_ratio, init_cfg=init_cfg, **kwargs)
        del self.conv_seg  # the summed branches are the classifier
        self.channels = self.out_channels
        self.dilations = tuple(dilations)
        # No norm -> ConvModule's bias='auto' gives each conv a bias; no activation.
        self.aspp_modules = ASPPModule(self.dilations, self.in_channels, self.out_channels,
                                       conv_cfg=self.conv_cfg, norm_cfg=None, act_cfg=None)

    def cls_seg(self, feat):
        """Sum the logits of the dilated branches (after the optional dropout)."""
        if self.dropout is not None:
            feat = self.dropout(feat)
        outs = self.aspp_modules(feat)
        out = outs[0]
        for o in outs[1:]:
            out = out + o
        return out

    def forward(self, inputs):
        """Forward function."""
        return self.cls_seg(self._transform_inputs(inputs))
