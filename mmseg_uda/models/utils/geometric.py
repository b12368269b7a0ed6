"""Random affine views of a batch (scale, rotation, flip, crop) applied alike to images and labels."""
import math

import torch
from kornia.geometry.transform import warp_affine

from .global_batch import rand_images
from .precision import upcast


def random_affine(batch_size, in_size, out_size, scale=(1.0, 1.0), max_rotation=0.0, flip_prob=0.0,
                  device=None, generator=None):
    """Per-image affine matrices (B, 2, 3) mapping input pixels to output pixels.

    Each image is flipped horizontally with ``flip_prob``, rotated by θ ~ U(±``max_rotation``)
    degrees and scaled by s ~ U(``scale``) about its centre, then a random ``out_size`` window of the
    result is taken (inside the scaled image where it is large enough, else centred with padding).
    Pixel centres are integer coordinates (``align_corners=True``).

    Args:
        in_size, out_size (tuple[int, int]): (H, W) of the input and the output.
        scale (tuple[float, float]): range of s (CLDA: 0.4–2.5).
        max_rotation (float): θ range in degrees (CLDA: 45).
        flip_prob (float): probability of a horizontal flip (CLDA: 0.5).
    """
    draws = iter((torch.rand((5, batch_size), generator=generator, device=generator.device)
                  if generator is not None else rand_images(batch_size, 5).t()).unbind(0))

    def uniform(low, high):
        return (low + (high - low) * next(draws)).to(device)

    (h, w), (oh, ow) = in_size, out_size
    s = uniform(*scale)
    theta = uniform(-max_rotation, max_rotation) * math.pi / 180
    flip = uniform(0, 1) < flip_prob
    sign = torch.where(flip, -1.0, 1.0)
    cos, sin = torch.cos(theta) * s, torch.sin(theta) * s
    # linear part A = s R(θ) F, with F = diag(sign, 1)
    a = torch.stack([torch.stack([cos * sign, -sin], 1), torch.stack([sin * sign, cos], 1)], 1)
    # random window: the scaled image spans s·(W, H); shift up to its margin beyond the output
    dx = (uniform(-1, 1) * ((s * w - ow) / 2).clamp(min=0))
    dy = (uniform(-1, 1) * ((s * h - oh) / 2).clamp(min=0))
    centre_in = torch.tensor([(w - 1) / 2, (h - 1) / 2], device=device)
    centre_out = torch.stack([(ow - 1) / 2 + dx, (oh - 1) / 2 + dy], 1)
    t = centre_out - (a @ centre_in[:, None]).squeeze(-1)
    return torch.cat([a, t[..., None]], 2)


def warp_images(images, matrix, out_size, fill=0.0):
    """Bilinear warp of (B, C, H, W) float images (or probability maps); outside = ``fill``.
    Computed in at least float32 (and float64 when the images or the matrix are)."""
    dtype = torch.promote_types(upcast(images).dtype, matrix.dtype)
    matrix = matrix.to(dtype)
    out = warp_affine(images.to(dtype), matrix, out_size, mode='bilinear', padding_mode='zeros')
    if fill != 0:
        inside = warp_affine(images.new_ones(images[:, :1].shape, dtype=dtype), matrix, out_size,
                             mode='nearest', padding_mode='zeros')
        out = torch.where(inside > 0, out, torch.full_like(out, fill))
    return out.to(images.dtype)


def warp_labels(labels, matrix, out_size, ignore_index=255):
    """Nearest-neighbour warp of (B, H, W) integer labels; outside = ``ignore_index``."""
    shifted = (labels.to(upcast(matrix).dtype) + 1)[:, None]  # 0 marks "outside" after zero padding
    out = warp_affine(shifted, upcast(matrix), out_size, mode='nearest', padding_mode='zeros')[:, 0]
    out = out.round().long() - 1
    return torch.where(out < 0, torch.full_like(out, ignore_index), out)
