"""Value-range conversion between mmseg's normalised images and CUT's [−1, 1] RGB (CONFETI spec
§2.9, §6 item 14: a wrong conversion silently ruins the stylisation)."""
import torch

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def _stats(x, mean, std):
    mean = torch.as_tensor(mean, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
    std = torch.as_tensor(std, dtype=x.dtype, device=x.device).reshape(1, -1, 1, 1)
    if x.dim() != 4 or mean.shape[1] != x.shape[1] or std.shape[1] != x.shape[1]:
        raise ValueError(f'x must be (B, C, H, W) with C = len(mean) = len(std), got x '
                         f'{tuple(x.shape)}, {mean.shape[1]} means, {std.shape[1]} stds')
    return mean, std


def to_cut_range(x, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """mmseg image → CUT input: x01 = (x·std + mean)/255, x_cut = 2·x01 − 1.

    Args:
        x (Tensor): (B, C, H, W) normalised as (pixel − mean)/std on the 0-255 scale, in the
            channel order of ``mean`` (RGB after ``bgr_to_rgb=True``, which CUT expects).
        mean (Sequence[float] | Tensor): per-channel mean, 0-255 scale (e.g. the data
            preprocessor's ``mean`` buffer). Default: ImageNet RGB.
        std (Sequence[float] | Tensor): per-channel std, 0-255 scale. Default: ImageNet RGB.

    Returns:
        Tensor: (B, C, H, W); pixels 0 and 255 map to −1 and 1.
    """
    mean, std = _stats(x, mean, std)
    return (x * std + mean) * (2. / 255.) - 1.


def from_cut_range(x, mean=IMAGENET_MEAN, std=IMAGENET_STD):
    """CUT output → mmseg image, the inverse of :func:`to_cut_range`:
    x = (255·(x_cut + 1)/2 − mean)/std.

    Args:
        x (Tensor): (B, C, H, W) in [−1, 1].
        mean (Sequence[float] | Tensor): per-channel mean, 0-255 scale. Default: ImageNet RGB.
        std (Sequence[float] | Tensor): per-channel std, 0-255 scale. Default: ImageNet RGB.

    Returns:
        Tensor: (B, C, H, W) normalised image.
    """
    mean, std = _stats(x, mean, std)
    return ((x + 1.) * (255. / 2.) - mean) / std
