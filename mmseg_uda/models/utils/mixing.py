"""Mixing masks (ClassMix, grid-aligned CutMix) and the strong photometric augmentation of DACS
(Tranheden et al., WACV 2021)."""
import math

import torch
import torch.nn.functional as F

from .augment import NormalisedImageAug
from .global_batch import any_global, rand_images, rand_shared
from .sampling import cells_to_pixels


def classmix_masks(labels, num_classes, scope='image', ignore_index=255):
    """ClassMix masks: per image, half of the classes present in its source label are pasted.

    For each image i, C_i is the set of label values present (per image, DACS; or the union over
    the batch, ``scope='batch'``, DAFormer's code); ⌈|C_i| / 2⌉ of them are chosen uniformly without
    replacement and M_i = 1[y_i ∈ chosen]. As in both reference implementations the ignore label
    counts as a class of C_i. Vectorised: one random key per (image, class), the smallest keys win.

    Args:
        labels (Tensor): source labels (B, H, W), long.
        num_classes (int): number of classes; values are in [0, num_classes) or ``ignore_index``.
        scope (str): ``'image'`` or ``'batch'``.

    Returns:
        Tensor: bool masks (B, H, W), True where the source pixel is pasted.
    """
    if scope not in ('image', 'batch'):
        raise ValueError(f"classmix scope must be 'image' or 'batch', got {scope!r}")
    b = labels.shape[0]
    # ignore gets slot num_classes
    slots = torch.where(labels == ignore_index, torch.full_like(labels, num_classes), labels)
    present = F.one_hot(slots.flatten(1), num_classes + 1).amax(1).bool()  # (B, K)
    if scope == 'batch':  # the classes of the global batch under DDP
        present = any_global(present.any(0, keepdim=True)).expand(b, -1)
    keys = rand_images(b, num_classes + 1, device=labels.device).masked_fill(~present, 2.0)
    rank = keys.argsort(1).argsort(1)  # rank of each class among the image's keys
    n_chosen = (present.sum(1, keepdim=True) + 1) // 2
    chosen = (rank < n_chosen) & present  # (B, K)
    return chosen.gather(1, slots.flatten(1)).view_as(labels)


def cutmix_squares(batch, grid, area=0.5, device=None, generator=None):
    """Grid-aligned CutMix squares (RCCR §3.2.2): one square of cells per image on an h×w grid.

    The side is s = round(√(a·h·w)) cells (clipped to [1, min(h, w)]) for an area share a, fixed or
    drawn per image from U(``area``) when a (low, high) pair; the top-left cell is uniform over the
    positions that keep the square inside the grid. On the image the square spans whole feature
    cells (:func:`grid_to_pixels`), so pixel and feature positions correspond exactly.

    Args:
        batch (int): number of images B.
        grid (tuple[int, int]): the feature grid (h, w).
        area (float | tuple[float, float]): share of the grid covered (0.5: the half-area box).

    Returns:
        Tensor: bool (B, h, w), True inside each square.
    """
    h, w = grid
    lo, hi = (area, area) if isinstance(area, (int, float)) else area
    if not 0 < lo <= hi <= 1:
        raise ValueError(f'cutmix area must be in (0, 1], got {area}')
    u = torch.rand((batch, 3), generator=generator) if generator is not None \
        else rand_images(batch, 3)
    share = lo + (hi - lo) * u[:, 0]
    side = (share * h * w).sqrt().round().long().clamp(1, min(h, w))
    top = (u[:, 1] * (h - side + 1)).long()
    left = (u[:, 2] * (w - side + 1)).long()
    rows, cols = torch.arange(h)[None, :, None], torch.arange(w)[None, None, :]
    top, left, side = top[:, None, None], left[:, None, None], side[:, None, None]
    inside = (rows >= top) & (rows < top + side) & (cols >= left) & (cols < left + side)
    return inside.to(device)


def grid_to_pixels(mask, size):
    """A (B, h, w) cell mask as a (B, H, W) pixel mask: each pixel takes the value of the feature
    position whose receptive-field centre is nearest (:func:`cells_to_pixels`, any crop size)."""
    return cells_to_pixels(mask.bool(), size)


def mix(mask, source, target):
    """M ⊙ source + (1 − M) ⊙ target for images (B, C, H, W) or labels/weights (B, H, W)."""
    if source.dim() == 4 and mask.dim() == 3:
        mask = mask.unsqueeze(1)
    return torch.where(mask, source, target)


def blur_kernel_size(side):
    """Odd kernel nearest to 10 % of the side: ⌊⌈0.1 S⌉ − 0.5 + ⌈0.1 S⌉ mod 2⌋ (51 for 512)."""
    k = math.ceil(0.1 * side)
    return int(math.floor(k - 0.5 + k % 2))


class StrongPhotometricAug(NormalisedImageAug):
    """Colour jitter and Gaussian blur of DACS, applied to mixed images on the device.

    Jitter (kornia ``ColorJiggle``, the semantics of the kornia ColorJitter DACS used) with
    brightness = contrast = saturation = hue = ``color_jitter_strength`` when u > ``color_jitter_prob``
    (applied 80 % of the time by default); Gaussian blur with σ ~ U(``blur_sigma``) and a kernel
    of ~10 % of each side when u' > 0.5. As in the DACS and DAFormer code, which augment each mixed
    image in its own call with coins drawn once per iteration, the coins u, u' are shared by the
    batch while the jitter factors and σ are drawn per image (for the global batch, sliced: N
    processes draw what one does). Images are de-normalised to [0, 1] for the jitter and
    normalised back (:class:`NormalisedImageAug`).

    Args:
        mean, std (Sequence[float]): the data preprocessor's normalisation (0-255 scale).
        color_jitter_strength (float): s (DACS 0.25, DAFormer 0.2).
        color_jitter_prob (float): threshold on u (0.2: applied when u > 0.2).
        blur (bool): enable the blur.
        blur_sigma (tuple[float, float]): range of σ. Default (0.15, 1.15).
    """

    def __init__(self, mean, std, color_jitter_strength=0.2, color_jitter_prob=0.2, blur=True,
                 blur_sigma=(0.15, 1.15)):
        from kornia.augmentation import ColorJiggle
        super().__init__(mean, std)
        s = color_jitter_strength
        self.jitter = ColorJiggle(brightness=s, contrast=s, saturation=s, hue=s, p=1.0) \
            if s > 0 else None
        self.color_jitter_prob = color_jitter_prob
        self.blur = blur
        self.blur_sigma = blur_sigma

    def augment(self, img):
        from kornia.filters import gaussian_blur2d
        u = rand_shared(2)  # once per (global) batch: jitter?, blur?
        if self.jitter is not None and u[0] > self.color_jitter_prob:
            img = self.on_unit_range(img, self.jitter)
        if self.blur and u[1] > 0.5:
            lo, hi = self.blur_sigma
            sigma = lo + (hi - lo) * rand_images(img.shape[0], 1, device=img.device)  # (B, 1)
            kernel = (blur_kernel_size(img.shape[2]), blur_kernel_size(img.shape[3]))
            img = gaussian_blur2d(img, kernel, sigma.expand(-1, 2))
        return img
