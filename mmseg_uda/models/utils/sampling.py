"""Label downsampling to the feature grid and class-balanced pixel sampling."""
import torch
import torch.nn.functional as F

from .global_batch import current, rand_shared, select_global


def downscale_label_ratio(labels, scale, min_ratio, num_classes, ignore_index=255):
    """Majority class of each ``scale``×``scale`` cell, or ignore when it covers < ``min_ratio``.

    DAFormer's purity rule (CLDA spec §9.2): the share of each class in a cell is the average-pooled
    one-hot label (ignored pixels count as a class of their own), the cell takes the class with the
    largest share if that share is ≥ ``min_ratio`` and it is not the ignore slot.

    Args:
        labels (Tensor): (B, H, W) long labels.
        scale (int): the cell side (output stride).
        min_ratio (float): minimum share of the majority class (0.75 in DAFormer).

    Returns:
        Tensor: (B, H // scale, W // scale) long labels.
    """
    slots = torch.where(labels == ignore_index, torch.full_like(labels, num_classes), labels)
    onehot = F.one_hot(slots, num_classes + 1).permute(0, 3, 1, 2).float()
    ratio, major = F.avg_pool2d(onehot, scale).max(1)
    keep = (ratio >= min_ratio) & (major < num_classes)
    return torch.where(keep, major, torch.full_like(major, ignore_index))


def cell_centre_labels(labels, size):
    """The label at the centre pixel of each cell of an h×w grid over (B, H, W) ``labels`` (ids are
    sampled, never interpolated; RCCR spec §9.6)."""
    (h, w), (big_h, big_w) = size, labels.shape[-2:]
    rows = ((torch.arange(h, device=labels.device) + 0.5) * big_h / h).long()
    cols = ((torch.arange(w, device=labels.device) + 0.5) * big_w / w).long()
    return labels[..., rows, :][..., cols]


def sample_per_class(labels, k, num_classes, generator=None):
    """Indices of at most ``k`` pixels per class, drawn uniformly without replacement.

    Classes with fewer than ``k`` pixels give all of theirs; labels outside [0, C) are never
    drawn: :func:`top_n_per_class` of one random key per pixel. Inside a training iteration
    (no ``generator``) the draw is over the global batch (:func:`select_global`): this rank gets
    its share of the ``k`` per class.

    Args:
        labels (Tensor): labels of any shape (flattened).
        k (int): pixels per class (CLDA: 1000 anchors per class and domain).
        num_classes (int): C.
        generator (torch.Generator, optional): RNG for the draw.

    Returns:
        Tensor: (N,) indices into ``labels.flatten()``, grouped by class.
    """
    flat = labels.flatten()
    if generator is None and current() is not None:
        def pick(y):
            keys = rand_shared(y.numel(), device=y.device)
            return top_n_per_class(y, keys, torch.zeros_like(keys), k, num_classes)
        return select_global(pick, flat)
    device = flat.device if generator is None else generator.device
    keys = torch.rand(flat.numel(), generator=generator, device=device).to(flat.device)
    return top_n_per_class(flat, keys, torch.zeros_like(keys), k, num_classes)


def top_n_per_class(labels, weights, keys, n, num_classes):
    """Indices of the ``n`` rows of each class with the largest weight (ties: smallest key first).

    Vectorised (three stable sorts, no loop over classes); rows with a label outside [0, C) are
    never chosen. Classes with fewer than ``n`` rows give all of theirs.

    Args:
        labels (Tensor): (N,) classes.
        weights (Tensor): (N,) selection scores (e.g. the CAM of the row's class).
        keys (Tensor): (N,) tie-break keys (e.g. uniform random numbers).
        n (int): rows per class.
        num_classes (int): C.

    Returns:
        Tensor: (M,) row indices, grouped by class, by decreasing weight within a class.
    """
    idx = ((labels >= 0) & (labels < num_classes)).nonzero().squeeze(1)
    idx = idx[torch.argsort(keys[idx], stable=True)]
    idx = idx[torch.argsort(weights[idx], descending=True, stable=True)]
    idx = idx[torch.argsort(labels[idx], stable=True)]
    cls = labels[idx]
    counts = torch.bincount(cls, minlength=num_classes)
    rank = torch.arange(cls.numel(), device=cls.device) - (torch.cumsum(counts, 0) - counts)[cls]
    return idx[rank < n]


def labels_on_grid(labels, grid, mode='nearest', min_ratio=0.75, num_classes=None,
                   ignore_index=255):
    """(B, H, W) labels on an h×w feature grid: the label at each cell's centre (``'nearest'``,
    :func:`cell_centre_labels`) or the cell's majority label when it covers at least ``min_ratio``
    of the cell, else ignore (``'ratio'``, :func:`downscale_label_ratio`, needs ``num_classes``)."""
    if mode == 'nearest':
        return cell_centre_labels(labels, grid)
    if mode != 'ratio':
        raise ValueError(f"label grid mode must be 'nearest' or 'ratio', got {mode!r}")
    h, w = grid
    scale = max(labels.shape[-1] // w, 1)
    out = downscale_label_ratio(labels, scale, min_ratio, num_classes, ignore_index)[..., :h, :w]
    # a grid larger than H // scale × W // scale (padded features): the extra cells are ignored
    return F.pad(out, (0, w - out.shape[-1], 0, h - out.shape[-2]), value=ignore_index)


def proportional_counts(labels, num_classes, base):
    """n(c) = ⌈C · p̂(c) · n⌉ samples per class, p̂(c) the share of class c among the labels in
    [0, C) (T2S-DA Eq. 11, class-balanced query sampling), in exact integer arithmetic.

    Args:
        labels (Tensor): labels of any shape; other values are not counted.
        base (int): n.

    Returns:
        Tensor: (C,) int64; 0 for absent classes, ≥ 1 for present ones.
    """
    flat = labels.flatten()
    counts = torch.bincount(flat[(flat >= 0) & (flat < num_classes)], minlength=num_classes)
    total = counts.sum().clamp(min=1)
    return (num_classes * base * counts + total - 1) // total


def sample_with_replacement(pool, n):
    """``n`` entries of the 1-D tensor ``pool`` drawn uniformly with replacement (none if empty)."""
    if pool.numel() == 0 or n == 0:
        return pool[:0]
    if current() is not None:  # the same draw on every rank (pools of the global batch)
        u = rand_shared(int(n), device=pool.device)
        return pool[(u * pool.numel()).long().clamp(max=pool.numel() - 1)]
    return pool[torch.randint(pool.numel(), (int(n), ), device=pool.device)]
