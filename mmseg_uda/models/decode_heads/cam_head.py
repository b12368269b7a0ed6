import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

from ..utils.precision import upcast


def image_level_labels(labels, num_classes, ignore_index=255):
    """Multi-hot image labels y_c = [class c occurs in the label map] (CONFETI Supp. A2).

    Args:
        labels (Tensor): (B, H, W) or (B, 1, H, W) class ids; ``ignore_index`` marks no class.
        num_classes (int): K.
        ignore_index (int): the ignore label (255).

    Returns:
        Tensor: (B, K) float32 of 0/1.

    Raises:
        ValueError: a label outside [0, K) that is not ``ignore_index``.
    """
    flat = labels.reshape(labels.shape[0], -1).long()
    bad = (flat != ignore_index) & ((flat < 0) | (flat >= num_classes))
    if bad.any():
        raise ValueError(f'labels must be in [0, {num_classes}) or ignore_index={ignore_index}, '
                         f'got {flat[bad][0].item()}')
    slots = torch.where(flat == ignore_index, torch.full_like(flat, num_classes), flat)
    multi_hot = flat.new_zeros(flat.shape[0], num_classes + 1, dtype=torch.float32)
    return multi_hot.scatter_(1, slots, 1.0)[:, :num_classes]  # the extra slot collects ignore


@MODELS.register_module()
class CAMHead(BaseModule):
    """Multi-label classifier whose weights give class activation maps (CONFETI §3.2.1, Supp. A).

    One 1×1 conv w ∈ R^{K×D} without bias on a backbone feature map (spec §2.4): its output
    w_c·f_j is the per-pixel class score, its global average the image score s_c of Eq. (4)/(A1)
    (GAP and the linear map commute), and its ReLU the CAM M_c of Eq. (5). The weight is drawn from
    Normal(0, 0.01) at construction (the code's init), so the head is ready without
    ``init_weights``; an ``init_cfg`` overrides it there.

    Args:
        in_channels (int): D, channels of the backbone output (2048 for ResNet-101 layer4).
        num_classes (int): K. Default: 19.
        in_index (int): which backbone output to use when given a list. Default: -1 (the last
            stage, the code's ``in_index=3``).
        init_std (float): standard deviation of the weight init. Default: 0.01.
        init_cfg (dict, optional): mmengine init config applied by ``init_weights``.
    """

    def __init__(self, in_channels=2048, num_classes=19, in_index=-1, init_std=0.01,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if in_channels <= 0 or num_classes <= 0:
            raise ValueError(f'CAMHead: in_channels and num_classes must be > 0, got '
                             f'{in_channels}, {num_classes}')
        if init_std <= 0:
            raise ValueError(f'CAMHead: init_std must be > 0, got {init_std}')
        self.in_channels, self.num_classes, self.in_index = in_channels, num_classes, in_index
        self.conv = nn.Conv2d(in_channels, num_classes, 1, bias=False)
        nn.init.normal_(self.conv.weight, std=init_std)

    def forward(self, feats):
        """Class activation logits w_c·f_j (B, K, h, w) of ``feats`` (a tensor or the backbone's
        list of (B, D, h, w) maps)."""
        x = feats[self.in_index] if isinstance(feats, (list, tuple)) else feats
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'CAMHead: feats must be (B, {self.in_channels}, h, w), got '
                             f'{tuple(x.shape)}')
        return self.conv(x)

    def cams(self, feats):
        """CAMs M_c = ReLU(w_c·f) (B, K, h, w), Eq. (5); not up-sampled."""
        return F.relu(self.forward(feats))

    def loss(self, feats, labels, ignore_index=255):
        """L_CAM (Supp. A1–A2): BCE between σ(GAP(w·f)) and the image-level multi-hot labels.

        Computed as the code does, BCE-with-logits on the GAP logits, mean over B·K, in float32
        outside autocast.

        Args:
            feats (Tensor | list[Tensor]): backbone features, see :meth:`forward`.
            labels (Tensor): (B, H, W) or (B, 1, H, W) label maps at any resolution (source GT or
                the mixed label); ``ignore_index`` pixels mark no class.
            ignore_index (int): the ignore label (255).

        Returns:
            Tensor: the scalar loss (at least float32).
        """
        logits = self.forward(feats)
        if labels.shape[0] != logits.shape[0]:
            raise ValueError(f'CAMHead.loss: labels hold {labels.shape[0]} images, feats '
                             f'{logits.shape[0]}')
        targets = image_level_labels(labels, self.num_classes, ignore_index)
        with torch.autocast(device_type=logits.device.type, enabled=False):
            scores = upcast(logits).mean((2, 3))  # s_c of Eq. (4), before the sigmoid of (A1)
            return F.binary_cross_entropy_with_logits(scores, targets.to(scores.device))
