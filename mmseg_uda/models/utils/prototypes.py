"""Class prototypes: weighted class means of embeddings, per batch or accumulated."""
import torch
import torch.nn.functional as F

from .dist import sum_over_ranks


def weighted_class_sums(feats, labels, weights, num_classes):
    """Σ_f ω(f)·f and Σ_f ω(f) per class over the rows with a label in [0, C).

    Args:
        feats (Tensor): (N, D) embeddings.
        labels (Tensor): (N,) classes; other values (ignore) are skipped.
        weights (Tensor | None): (N,) weights ω (None: 1).

    Returns:
        tuple[Tensor, Tensor]: sums (C, D) and weight totals (C,), in float32.
    """
    valid = (labels >= 0) & (labels < num_classes)
    feats, labels = feats[valid].float(), labels[valid]
    w = feats.new_ones(labels.shape) if weights is None else weights[valid].float()
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
    conf, pred = conf.flatten().float(), pred.flatten()
    taus = conf.new_full((num_classes, ), tau0)
    for c in pred.unique().tolist():  # at most C classes
        if 0 <= c < num_classes:
            values = conf[pred == c]
            k = max(1, int(round((1 - top) * values.numel())))
            taus[c] = min(tau0, values.kthvalue(k).values.item())
    return taus
