import copy

import torch
from mmengine.model import BaseModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..losses.decode_losses import decode_losses
from ..utils.checks import PROBABILITY, check_keys, optional

HRDA_HEAD_RULES = dict(hr_loss_weight=dict(low=0, high=1, open_high=True),
                       fixed_attention=optional(PROBABILITY), attention_classwise=(True, False))


@MODELS.register_module()
class HRDAHead(BaseModule):
    """HRDA's multi-resolution decoder: a shared head and a learned scale attention.

    HRDA (Hoyer et al., ECCV 2022, multi-resolution fusion): the same segmentation head ``head``
    predicts the low-resolution context y_LR and the high-resolution detail y_HR; the scale
    attention a = σ(``scale_attention``(f_LR)) comes from the context features, and inside the
    detail crop

        y_fused = a · up(y_HR) + (1 − a) · up(y_LR)          (a = 0 outside the crop)

    at the detail prediction's scale. Training loss:
    (1 − λ_d) · CE(y_fused, y) + λ_d · CE(y_HR, y_crop).

    The head only decodes features and fuses logits; where the crops are and how images are
    resized is :class:`~mmseg_uda.models.segmentors.HRDAEncoderDecoder`'s job, which is also
    the only caller. Calling :meth:`forward` with one scale's features raises: a plain
    ``extract_feat`` / ``decode_head.forward`` pair would silently train a single-scale model.

    Args:
        head (dict): config of the shared single-scale head, e.g. a ``DAFormerHead``. Its
            ``num_classes``, ``ignore_index``, ``align_corners`` and ``loss_decode`` are this
            head's (``HRDAHead.head`` holds it: HRDA's released keys ``decode_head.head.*``).
        attention (dict | None): the scale-attention head (``HRDAHead.scale_attention``). A dict
            with ``type`` is a full config; otherwise its keys override a copy of ``head`` with
            ``fusion_type='conv'`` (HRDA: a 1x1 conv + BN + ReLU fusion, DAFormerHead only) and
            ``num_classes`` C (class-wise) or 1. Default None: no overrides.
        attention_classwise (bool): one attention map per class (HRDA) or one shared map.
            Default True.
        hr_loss_weight (float): λ_d, the weight of the detail loss, in [0, 1). Default 0.1.
        fixed_attention (float | None): a constant attention instead of the learned one (HRDA's
            ablation of learned scale attention); no ``scale_attention`` is built. Default None.
        init_cfg (dict | None): initialisation config of this wrapper (the heads keep theirs).
    """

    def __init__(self, head, attention=None, attention_classwise=True, hr_loss_weight=0.1,
                 fixed_attention=None, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        check_keys('HRDAHead', dict(hr_loss_weight=hr_loss_weight, fixed_attention=fixed_attention,
                                    attention_classwise=attention_classwise), HRDA_HEAD_RULES,
                   'decode_head.')
        self.head = MODELS.build(head)
        self.hr_loss_weight = hr_loss_weight
        self.fixed_attention = fixed_attention
        self.attention_classwise = attention_classwise
        if fixed_attention is None:
            self.scale_attention = MODELS.build(
                attention_config(head, attention, self.head.num_classes, attention_classwise))
        else:
            if attention is not None:
                raise ValueError('HRDAHead: model.decode_head.attention is unused with '
                                 f'fixed_attention={fixed_attention}; set one of them')
            self.scale_attention = None
        for key in ('num_classes', 'out_channels', 'ignore_index', 'align_corners', 'threshold'):
            setattr(self, key, getattr(self.head, key))

    @property
    def loss_decode(self):
        """The shared head's losses (applied to both the fused and the detail logits)."""
        return self.head.loss_decode

    def forward(self, inputs):
        raise TypeError(
            'HRDAHead.forward: HRDA decodes two scales and fuses them; call '
            'HRDAEncoderDecoder.multires_logits (training) or .context_logits (inference), not '
            'extract_feat + decode_head.forward')

    def seg_logits(self, feats):
        """The shared head's logits (B, C, h, w) of one scale's backbone features."""
        return self.head(feats)

    def attention(self, feats):
        """Scale attention a ∈ [0, 1], (B, C or 1, h, w), from the context features."""
        if self.scale_attention is None:
            first = self.head._transform_inputs(feats)[0]  # the head's output grid
            return first.new_full((first.shape[0], 1, *first.shape[2:]), self.fixed_attention)
        return torch.sigmoid(self.scale_attention(feats))

    def fuse(self, lr_logits, attention, hr_logits, hr_mask):
        """y_fused = a · y_HR + (1 − a) · up(y_LR) with a = up(attention) · mask.

        Args:
            lr_logits (Tensor): context logits (B, C, h, w) on the context grid.
            attention (Tensor): (B, C or 1, h, w) on the same grid.
            hr_logits (Tensor): detail logits placed on the fused grid (B, C, H, W), any value
                where ``hr_mask`` is 0.
            hr_mask (Tensor): (B, 1, H, W), 1 where a detail prediction exists, else 0.

        Returns:
            Tensor: (B, C, H, W) fused logits; exactly up(y_LR) where ``hr_mask`` is 0.
        """
        size = hr_logits.shape[2:]
        lr_up = resize(lr_logits, size=size, mode='bilinear', align_corners=self.align_corners)
        a = resize(attention, size=size, mode='bilinear',
                   align_corners=self.align_corners) * hr_mask
        # masked with where, not a product: a detail value of inf/nan outside the crop stays out
        return torch.where(hr_mask > 0, a * hr_logits + (1 - a) * lr_up, lr_up)

    def pixel_losses(self, logits, labels, weights=None, scale=1.0):
        """The shared head's losses of ``logits`` against (B, H, W) ``labels``
        (:func:`~mmseg_uda.models.losses.decode_losses`)."""
        return decode_losses(self, logits, labels, weights, scale)


def attention_config(head, attention, num_classes, classwise):
    """The scale-attention head's config: ``attention`` when it names a ``type``, else ``head``
    with a 1x1 conv fusion, C or 1 output channels and ``attention``'s overrides."""
    attention = dict(attention or {})
    if 'type' in attention:
        return attention
    if head.get('type') != 'DAFormerHead':
        raise ValueError(f"HRDAHead: model.decode_head.attention must be a full config (with "
                         f"'type') for a head of type {head.get('type')!r}; it is derived only "
                         f"from a DAFormerHead")
    cfg = copy.deepcopy(dict(head))
    cfg.update(fusion_type='conv', num_classes=num_classes if classwise else 1)
    if not classwise:
        cfg.setdefault('threshold', 0.5)  # one output channel: mmseg asks for a threshold
    cfg.pop('loss_decode', None)
    cfg.update(attention)
    return cfg

