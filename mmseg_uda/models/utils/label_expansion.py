import torch
import torch.nn.functional as F
from torch import nn

from .dist import sum_over_ranks
from .global_batch import gather_global
from .precision import upcast
from .prototypes import weighted_class_sums
from .sampling import cells_to_pixels


class LabelExpansion(nn.Module):
    """CLDA §5.3: relabel low-confidence target pixels by the nearest pseudo-label prototype.

    Prototypes π_c are ω-weighted means (Eq. 2) of the teacher's features over its confident pixels
    (F_c, Eq. 3), accumulated since the window started (the teacher refresh; :meth:`reset`), the
    current batch included, summed over ranks. A low-confidence pixel g takes the class of the
    nearest prototype under the cosine distance d = 1 − cos(g, π_c) if d ≤ r_c, else stays ignored;
    r_c is the ``radius_quantile`` quantile of d(g, π_c) over this batch's confident pixels of class
    c (a class-adaptive radius; the paper's distance and cutoff are in a supplement we do not have,
    spec §4.2 suggestion), or the fixed ``max_distance`` when given.

    State (window sums) is in buffers: checkpoints carry it.

    Args:
        num_classes (int): C. dim (int): feature dimension.
        radius_quantile (float): quantile of the confident pixels' distances. Default: 0.9.
        max_distance (float, optional): a global cutoff on d instead of the class radius.
    """

    def __init__(self, num_classes, dim, radius_quantile=0.9, max_distance=None):
        super().__init__()
        self.num_classes, self.radius_quantile, self.max_distance = (num_classes, radius_quantile,
                                                                     max_distance)
        self.register_buffer('sums', torch.zeros(num_classes, dim))
        self.register_buffer('totals', torch.zeros(num_classes))

    def reset(self):
        self.sums.zero_()
        self.totals.zero_()

    @torch.no_grad()
    def forward(self, feats, pred, weight, confident):
        """Accumulate this batch's confident features; nearest prototype of every position.

        Args:
            feats (Tensor): teacher features (B, D, h, w).
            pred (Tensor): teacher argmax classes (B, h, w).
            weight (Tensor): ω, the teacher probability of ``pred`` (B, h, w).
            confident (Tensor): bool (B, h, w), conf > τ_pred (the pixels of F_c).

        Returns:
            tuple[Tensor, Tensor]: the class of the nearest prototype (B, h, w) and whether it is
            within the radius (B, h, w); the caller relabels its low-confidence pixels with it
            (:meth:`expand`).
        """
        g = F.normalize(upcast(feats), dim=1).permute(0, 2, 3, 1).reshape(-1, feats.shape[1])
        pred, weight, confident = pred.flatten(), weight.flatten(), confident.flatten()
        cls = torch.where(confident, pred, torch.full_like(pred, -1))
        sums, totals = weighted_class_sums(g, cls, weight, self.num_classes)
        self.sums += sum_over_ranks(sums)
        self.totals += sum_over_ranks(totals)
        present = self.totals > 0
        protos = F.normalize(self.sums, dim=1)
        with torch.autocast(device_type=g.device.type, enabled=False):  # float32 cosines under AMP
            dist = 1 - g @ protos.t()  # (N, C)
        dist[:, ~present] = float('inf')
        radius = self.class_radius(dist, cls, present)
        nearest_d, nearest = dist.min(1)
        within = nearest_d <= radius[nearest]
        shape = feats.shape[:1] + feats.shape[2:]
        return nearest.view(shape), within.view(shape)

    @staticmethod
    def expand(labels, confident, nearest, within):
        """Labels where confident, else the nearest prototype's class where within the radius.

        ``nearest``/``within`` may be at a lower resolution (feature grid): each pixel takes its
        feature cell's values (:func:`cells_to_pixels`), and only low-confidence pixels of the
        full-resolution map change.
        Returns the labels and the mask of the expanded pixels.
        """
        if nearest.shape[-2:] != labels.shape[-2:]:
            nearest = cells_to_pixels(nearest, labels.shape[-2:])
            within = cells_to_pixels(within, labels.shape[-2:])
        expanded = within & ~confident
        return torch.where(expanded, nearest, labels), expanded

    def class_radius(self, dist, cls, present):
        if self.max_distance is not None:
            return torch.full_like(present, self.max_distance, dtype=dist.dtype)
        radius = torch.full_like(present, -1.0, dtype=dist.dtype)  # no confident pixel: no expansion
        # the quantile over the confident pixels of the global batch
        own = gather_global(dist.gather(1, cls.clamp(min=0)[:, None]).squeeze(1))
        cls = gather_global(cls)
        for c in cls[cls >= 0].unique().tolist():  # at most C classes
            radius[c] = torch.quantile(own[cls == c], self.radius_quantile)
        return radius
