"""Class prototypes: weighted class means of embeddings, per batch or accumulated."""
import torch
import torch.nn.functional as F
from torch import nn

from .dist import average_over_ranks_, gather_rows, sum_over_ranks
from .global_batch import gather_global, rand_rows
from .precision import upcast
from .sampling import top_n_per_class


def weighted_class_sums(feats, labels, weights, num_classes):
    """Σ_f ω(f)·f and Σ_f ω(f) per class over the rows with a label in [0, C).

    Args:
        feats (Tensor): (N, D) embeddings.
        labels (Tensor): (N,) classes; other values (ignore) are skipped.
        weights (Tensor | None): (N,) weights ω (None: 1).

    Returns:
        tuple[Tensor, Tensor]: sums (C, D) and weight totals (C,), in at least float32.
    """
    valid = (labels >= 0) & (labels < num_classes)
    feats, labels = upcast(feats[valid]), labels[valid]
    if weights is not None:
        weights = upcast(weights[valid])
        feats = feats.to(torch.promote_types(feats.dtype, weights.dtype))
    w = feats.new_ones(labels.shape) if weights is None else weights.to(feats.dtype)
    sums = feats.new_zeros(num_classes, feats.shape[1]).index_add_(0, labels, feats * w[:, None])
    totals = feats.new_zeros(num_classes).index_add_(0, labels, w)
    return sums, totals


def class_prototypes(feats, labels, num_classes, weights=None, normalize=True, all_ranks=True):
    """Weighted class means f̄_c = Σ ω f / Σ ω over the pixels of class c (CLDA Eq. 2).

    Args:
        feats, labels, weights: see :func:`weighted_class_sums`.
        normalize (bool): L2-normalise the prototypes (CLDA spec §2: unit prototypes).
        all_ranks (bool): sum over all ranks before dividing (the global batch's prototypes).

    Returns:
        tuple[Tensor, Tensor]: prototypes (C, D) (zero rows for absent classes) and a bool mask
        (C,) of the classes present (Σ ω > 0).
    """
    sums, totals = weighted_class_sums(feats, labels, weights, num_classes)
    if all_ranks:
        sums, totals = sum_over_ranks(sums), sum_over_ranks(totals)
    present = totals > 0
    protos = sums / totals.clamp(min=1e-12)[:, None]
    if normalize:
        protos = F.normalize(protos, dim=1)
    return protos * present[:, None], present


def class_adaptive_thresholds(conf, pred, num_classes, tau0=0.9, top=0.1):
    """τ_c = min(τ_0, τ_p(c)), τ_p(c) the (1 − top)-quantile of the confidences predicted as c.

    Ma et al.'s class-adaptive threshold as used by CLDA (App. A): every pixel above τ_0 is kept and
    at least the top ``top`` share of each predicted class. Classes never predicted get τ_0.

    Args:
        conf (Tensor): confidences (any shape). pred (Tensor): predicted classes (same shape).

    Returns:
        Tensor: (C,) thresholds.
    """
    # the quantiles of the global batch (every rank's pixels) inside a training iteration
    conf, pred = gather_global(upcast(conf.flatten())), gather_global(pred.flatten())
    taus = conf.new_full((num_classes, ), tau0)
    for c in pred.unique().tolist():  # at most C classes
        if 0 <= c < num_classes:
            values = conf[pred == c]
            k = max(1, int(round((1 - top) * values.numel())))
            taus[c] = min(tau0, values.kthvalue(k).values.item())
    return taus


class MomentumPrototypes(nn.Module):
    """Class prototypes from CAM-weighted top-n pixel means with momentum (CONFETI Eq. 6–7, Alg. 1).

    One :meth:`update` per iteration follows the official code (spec §2.6): for each class c
    present, the top-n rows of class c by their weight M_c (ties broken at random, spec §9.18),
    p'_c = Σ M_c v / Σ M_c over them (Eq. 6; the class is skipped when Σ M_c = 0), normalised;
    then p_c = p'_c on the class's first update, else p_c = γ p_c + (1 − γ) p'_c (Eq. 7); finally
    every row is re-normalised (Alg. 1; never-updated rows stay 0).

    The prototypes (K, D) and the number of pixels each class was updated from are buffers, so
    checkpoints carry them. Under DDP every rank first picks its own top-n per class, the
    candidates (≤ K·n rows per rank, with weights and tie-break keys) are gathered from all ranks
    and the top-n is taken again over them: the global top-n is a subset of the union of the local
    ones, so every rank computes the update of one process over the global batch, bit-identical
    across ranks (a final all-reduce mean absorbs the non-deterministic CUDA ``index_add_``
    order).

    Args:
        num_classes (int): K. Default: 19.
        dim (int): D, the projection width. Default: 512.
        momentum (float): γ of Eq. (7). Default: 0.999.
        top_n (int): n, pixels per class and update. Default: 32.
        normalize_feats (bool): ℓ2-normalise each v before the weighted mean. The code averages
            the raw teacher projections (spec §6.8). Default: False.
    """

    def __init__(self, num_classes=19, dim=512, momentum=0.999, top_n=32, normalize_feats=False):
        super().__init__()
        if num_classes <= 0 or dim <= 0:
            raise ValueError(f'MomentumPrototypes: num_classes and dim must be > 0, got '
                             f'{num_classes}, {dim}')
        if not 0 <= momentum <= 1:
            raise ValueError(f'MomentumPrototypes: momentum must be in [0, 1], got {momentum}')
        self._check_top_n(top_n)
        self.num_classes, self.dim = num_classes, dim
        self.momentum, self.top_n, self.normalize_feats = momentum, top_n, normalize_feats
        self.register_buffer('prototypes', torch.zeros(num_classes, dim))
        self.register_buffer('count', torch.zeros(num_classes, dtype=torch.long))

    @property
    def seen(self):
        """(K,) bool: classes updated at least once (their prototype is a unit vector)."""
        return self.count > 0

    @staticmethod
    def _check_top_n(top_n):
        if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
            raise ValueError(f'MomentumPrototypes: top_n must be an int >= 1, got {top_n!r}')

    @torch.no_grad()
    def update(self, feats, labels, weights=None, top_n=None):
        """One momentum update from the rows of this rank (and, under DDP, of every rank).

        Args:
            feats (Tensor): (N, D) embeddings v, or (B, D, H, W) maps (teacher projections).
            labels (Tensor): (N,) or (B, H, W) / (B, 1, H, W) classes at the resolution of
                ``feats``; values outside [0, K) (ignore, or pixels a caller excludes) are skipped.
            weights (Tensor, optional): non-negative weights M (the teacher's CAMs): per class,
                (N, K) or (B, K, H, W), or already those of each row's own class, (N,) or
                (B, H, W). None: uniform (the code before iteration 3000).
            top_n (int, optional): n for this update. Default: the constructor's.

        Returns:
            Tensor: (K,) bool, the classes updated by this call.
        """
        top_n = self.top_n if top_n is None else top_n
        self._check_top_n(top_n)
        rows, labels, weights = self._flatten(feats, labels, weights)
        K = self.num_classes
        keys = rand_rows(labels.numel(), labels.device)  # random tie-break, spec §9.18
        pick = top_n_per_class(labels, weights, keys, top_n, K)
        # one gather of the candidates: [v | label | weight | key], labels exact in float32
        cand = torch.cat([rows(pick), labels[pick, None].float(), weights[pick, None],
                          keys[pick, None]], 1)
        cand = gather_rows(cand)
        D = self.dim
        cand_labels = cand[:, D].long()
        cand = cand[top_n_per_class(cand_labels, cand[:, D + 1], cand[:, D + 2], top_n, K)]
        v, lab, w = cand[:, :D], cand[:, D].long(), cand[:, D + 1]
        if self.normalize_feats:
            v = F.normalize(v, dim=1)
        sums, totals = weighted_class_sums(v, lab, w, K)
        updated = totals > 0
        batch = F.normalize(sums / totals.clamp(min=1e-12)[:, None], dim=1)  # p'_c, Eq. (6)
        first = updated & (self.count == 0)
        ema = self.momentum * self.prototypes + (1 - self.momentum) * batch  # Eq. (7)
        new = torch.where(first[:, None], batch,
                          torch.where(updated[:, None], ema, self.prototypes))
        self.prototypes.copy_(F.normalize(new, dim=1))
        average_over_ranks_([self.prototypes])
        self.count += torch.bincount(lab, minlength=K) * updated
        return updated

    def _flatten(self, feats, labels, weights):
        """A row getter (indices -> (M, D) float32), (N,) labels and (N,) float32 weights."""
        K, D = self.num_classes, self.dim
        if feats.dim() == 4:
            if feats.shape[1] != D:
                raise ValueError(f'MomentumPrototypes: feats must have {D} channels, got '
                                 f'{tuple(feats.shape)}')
            B, _, H, W = feats.shape
            if labels.dim() == 4 and labels.shape[1] == 1:
                labels = labels[:, 0]
            if tuple(labels.shape) != (B, H, W):
                raise ValueError(f'MomentumPrototypes: labels must be (B, H, W) = {(B, H, W)} '
                                 f'like feats, got {tuple(labels.shape)}')
            if weights is not None:
                if tuple(weights.shape) == (B, K, H, W):  # the CAM of each pixel's own class
                    weights = weights.gather(1, labels.long().clamp(0, K - 1)[:, None])[:, 0]
                elif tuple(weights.shape) != (B, H, W):
                    raise ValueError(f'MomentumPrototypes: weights must be (B, K, H, W) = '
                                     f'{(B, K, H, W)} or (B, H, W), got {tuple(weights.shape)}')
                weights = weights.reshape(-1)
            flat = feats.detach().flatten(2)  # (B, D, HW), a view: no (BHW, D) copy

            def rows(idx):
                return upcast(flat[idx // (H * W), :, idx % (H * W)])
        elif feats.dim() == 2:
            if feats.shape[1] != D:
                raise ValueError(f'MomentumPrototypes: feats must be (N, {D}), got '
                                 f'{tuple(feats.shape)}')
            if tuple(labels.shape) != (feats.shape[0], ):
                raise ValueError(f'MomentumPrototypes: labels must be (N,) = ({feats.shape[0]},), '
                                 f'got {tuple(labels.shape)}')
            if weights is not None and tuple(weights.shape) not in ((feats.shape[0], ),
                                                                    (feats.shape[0], K)):
                raise ValueError(f'MomentumPrototypes: weights must be (N,) or (N, K) = '
                                 f'{(feats.shape[0], K)}, got {tuple(weights.shape)}')

            def rows(idx):
                return upcast(feats.detach()[idx])
        else:
            raise ValueError(f'MomentumPrototypes: feats must be (N, D) or (B, D, H, W), got '
                             f'{tuple(feats.shape)}')
        labels = labels.reshape(-1).long()
        if weights is None:
            weights = torch.ones(labels.shape, device=labels.device)
        elif weights.dim() == 2:  # each row's weight is the CAM of its own class
            weights = weights.gather(1, labels.clamp(0, K - 1)[:, None])[:, 0]
        return rows, labels, weights.detach().float()
