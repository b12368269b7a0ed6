"""Label downsampling to the feature grid and class-balanced pixel sampling."""
import math

import torch
import torch.nn.functional as F

from .global_batch import current, rand_shared, select_global


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


def _output_stride(size, cells, axis):
    """The power-of-two stride s of a network whose feature grid has ``cells`` = ⌈``size``/s⌉
    positions along an axis (every stride-2 layer of ResNetV1c and MiT has 'same' padding, so
    each halves the size rounding up)."""
    stride = 1
    while stride < 2 * size:
        if -(-size // stride) == cells:
            return stride
        stride *= 2
    raise ValueError(f'labels_to_grid: a feature grid of {cells} positions along {axis} is not '
                     f'what a network of stride 2^k gives for {size} label pixels (⌈{size}/s⌉); '
                     f'pass stride= (and offset=) for this geometry, or give labels at the '
                     f'input size')


def _axis_cells(size, cells, stride, offset):
    """Centre pixels and cell bounds of ``cells`` feature positions over ``size`` pixels.

    Position j is centred on pixel s·j + c; its cell is the pixels whose nearest centre it is,
    [s·j + c − s/2, s·j + c + s/2) (ties to the later position), clipped at the image borders:
    the first cell starts at 0 and the last one ends at ``size``.
    """
    centres = [math.floor(stride * j + offset + 0.5) for j in range(cells)]
    inner = [min(max(math.ceil(stride * j + offset - stride / 2), 0), size)
             for j in range(1, cells)]
    return centres, [0] + inner + [size]


def _cell_index(bounds, cells, device):
    """(n,) cell of every pixel along an axis and (cells,) pixels per cell, from the bounds."""
    sizes = torch.tensor(bounds, device=device).diff()
    return torch.repeat_interleave(torch.arange(cells, device=device), sizes), sizes


def labels_to_grid(labels, grid, mode='nearest', min_ratio=0.75, num_classes=None,
                   ignore_index=255, stride=None, offset=0.):
    """(…, H, W) labels on a network's h×w feature grid, with the network's own geometry.

    Feature position j sits on input pixel s·j + c (its receptive field's centre): a 3×3 stride-2
    convolution with padding 1 centres output j on input 2j, as do a 1×1 stride-2 convolution,
    the 3×3/2 max pool of ResNetV1c (all three give ⌈n/2⌉ outputs) and MiT's 7×7/4 (padding 3,
    centre 4j, ⌈n/4⌉ outputs) and 3×3/2 patch embeddings; stride-1 and dilated convolutions with
    'same' padding keep the centre. So c = 0 and h = ⌈H/s⌉ for ResNetV1c (dilated or not) and
    MiT at any input size, and s is read off the sizes. Cell j is the set of pixels whose nearest
    centre is j: [s·j − s/2, s·j + s/2) clipped at the borders (the last cell runs to the edge).

    Modes:

    - ``'nearest'``: the label of the centre pixel of each position (ids are sampled, never
      interpolated).
    - ``'ratio'``: the cell's majority label if it covers at least ``min_ratio`` of the cell's
      pixels, else ``ignore_index`` (DAFormer's ``downscale_label_ratio`` purity rule; pixels
      outside [0, C) count as one ignore slot, which never wins). Needs ``num_classes``.
    - ``'mean'``: the mean of a float map over each cell (e.g. confidence weights on the grid
      of the labels they weight).

    Args:
        labels (Tensor): (…, H, W) long labels (a float map for ``'mean'``) at the input size.
        grid (tuple[int, int]): (h, w) of the feature map.
        mode (str): ``'nearest'``, ``'ratio'`` or ``'mean'``.
        min_ratio (float): the purity ``'ratio'`` needs. Default: 0.75.
        num_classes (int, optional): C, for ``'ratio'``.
        ignore_index (int): the ignore label. Default: 255.
        stride (int, optional): s when the grid is not ⌈H/s⌉ × ⌈W/s⌉ (read off the sizes).
        offset (float): c, the centre of position 0 in input pixels. Default: 0.

    Returns:
        Tensor: (…, h, w) labels (long), or means (float) for ``'mean'``.
    """
    if mode not in ('nearest', 'ratio', 'mean'):
        raise ValueError(f"labels_to_grid: mode must be 'nearest', 'ratio' or 'mean', got "
                         f'{mode!r}')
    if mode == 'ratio' and num_classes is None:
        raise ValueError("labels_to_grid: mode 'ratio' needs num_classes")
    (h, w), (big_h, big_w) = tuple(grid), labels.shape[-2:]
    rows, row_bounds = _axis_cells(big_h, h, stride or _output_stride(big_h, h, 'H'), offset)
    cols, col_bounds = _axis_cells(big_w, w, stride or _output_stride(big_w, w, 'W'), offset)
    device = labels.device
    if mode == 'nearest':
        inside = torch.tensor(rows, device=device)[:, None] < big_h
        inside = inside & (torch.tensor(cols, device=device)[None] < big_w)
        out = labels[..., [min(r, big_h - 1) for r in rows], :][..., [min(c, big_w - 1)
                                                                     for c in cols]]
        return out.masked_fill(~inside, ignore_index)
    row_cell, row_sizes = _cell_index(row_bounds, h, device)
    col_cell, col_sizes = _cell_index(col_bounds, w, device)
    area = row_sizes[:, None] * col_sizes[None]  # (h, w) pixels per cell
    lead = labels.shape[:-2]
    if mode == 'mean':
        # exact cell sums as two 0/1 matrix products, in float32 whatever the autocast state
        rsel = F.one_hot(row_cell, h).t().float()
        csel = F.one_hot(col_cell, w).float()
        with torch.autocast(device.type, enabled=False):
            sums = rsel @ labels.float() @ csel
        return sums / area.clamp(min=1)
    # class histogram of every cell: one bincount over (image, cell, class slot)
    flat = labels.reshape(-1, big_h, big_w)
    slots = torch.where((flat >= 0) & (flat < num_classes), flat, num_classes)
    cell = (row_cell[:, None] * w + col_cell[None]).expand_as(slots)
    image = torch.arange(flat.shape[0], device=device)[:, None, None] * (h * w)
    index = ((image + cell) * (num_classes + 1) + slots).flatten()
    counts = torch.bincount(index, minlength=flat.shape[0] * h * w * (num_classes + 1))
    count, major = counts.view(flat.shape[0], h, w, num_classes + 1).max(-1)
    # the share as a float32 ratio, as DAFormer's average-pooled one-hot compares it
    keep = (count / area.clamp(min=1) >= min_ratio) & (major < num_classes) & (area > 0)
    out = torch.where(keep, major, torch.full_like(major, ignore_index))
    return out.view(*lead, h, w)


def cells_to_pixels(values, size, stride=None, offset=0.):
    """Values of feature positions on the input pixels, the inverse map of
    :func:`labels_to_grid`: each pixel takes the value of its cell (the position whose centre
    is nearest, same geometry).

    Args:
        values (Tensor): (…, h, w) per feature position (labels, masks, any dtype).
        size (tuple[int, int]): (H, W) of the input.
        stride (int, optional), offset (float): as in :func:`labels_to_grid`.

    Returns:
        Tensor: (…, H, W).
    """
    (h, w), (big_h, big_w) = values.shape[-2:], tuple(size)
    _, row_bounds = _axis_cells(big_h, h, stride or _output_stride(big_h, h, 'H'), offset)
    _, col_bounds = _axis_cells(big_w, w, stride or _output_stride(big_w, w, 'W'), offset)
    row_cell, _ = _cell_index(row_bounds, h, values.device)
    col_cell, _ = _cell_index(col_bounds, w, values.device)
    return values[..., row_cell, :][..., col_cell]


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
