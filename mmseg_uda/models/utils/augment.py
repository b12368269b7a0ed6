"""Per-image photometric augmentation of normalised batches on the device (CLDA App. A, Table 5)."""
import torch

from .global_batch import kornia_params, rand_images


class NormalisedImageAug:
    """Base of the photometric augmentations of normalised image batches on the device.

    ``__call__`` runs :meth:`augment` in float32 outside autocast and returns the input dtype;
    :meth:`on_unit_range` applies kornia colour ops to the images de-normalised to [0, 1] (their
    parameters drawn for the global batch, :func:`kornia_params`) and normalises the result back.

    Args:
        mean, std (Sequence[float]): the data preprocessor's normalisation (0–255 scale).
    """

    def __init__(self, mean, std):
        self.mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)

    def __call__(self, img):
        dtype = img.dtype
        with torch.autocast(device_type=img.device.type, enabled=False):
            img = self.augment(img.float())
        return img.to(dtype)

    def augment(self, img):
        """Augment float32 normalised images (B, 3, H, W)."""
        raise NotImplementedError

    def on_unit_range(self, img, *ops, clamp=False):
        """``ops`` applied in turn to ``img`` de-normalised to [0, 1] (``clamp``: clipped to it
        first), normalised back."""
        mean, std = self.mean.to(img.device), self.std.to(img.device)
        x = (img * std + mean) / 255.0
        if clamp:
            x = x.clamp(0, 1)
        for op in ops:
            x = op(x, params=kornia_params(op, x.shape))
        return (x * 255.0 - mean) / std


class PhotometricAug(NormalisedImageAug):
    """Colour jitter (prob. ``jitter_prob``), random grayscale and one CutOut square per image.

    Colour jitter is kornia's ``ColorJiggle`` with (brightness, contrast, saturation, hue) =
    ``color_jitter``, drawn per image; grayscale with ``grayscale_prob``; CutOut fills a square of
    side ~ U[0, ``cutout_max``] px with 0, the mean after normalisation (CLDA spec §9.15; labels
    are kept). The colour ops see the images clipped to [0, 1] (:class:`NormalisedImageAug`).

    Args:
        mean, std (Sequence[float]): the data preprocessor's normalisation (0–255 scale).
        color_jitter (tuple): CLDA (0.4, 0.4, 0.4, 0.1).
        jitter_prob (float): SimCLR/MoCo-v2's 0.8 (spec suggestion).
        grayscale_prob (float): CLDA 0.2.
        cutout_max (int): CLDA 40 (0: no CutOut).
    """

    def __init__(self, mean, std, color_jitter=(0.4, 0.4, 0.4, 0.1), jitter_prob=0.8,
                 grayscale_prob=0.2, cutout_max=40):
        from kornia.augmentation import ColorJiggle, RandomGrayscale
        super().__init__(mean, std)
        self.jitter = ColorJiggle(*color_jitter, p=jitter_prob)
        self.gray = RandomGrayscale(p=grayscale_prob)
        self.cutout_max = cutout_max

    def augment(self, img):
        x = self.on_unit_range(img, self.jitter, self.gray, clamp=True)
        if self.cutout_max > 0:
            x = x * (1 - cutout_masks(x.shape[0], x.shape[2:], self.cutout_max, x.device))
        return x


def cutout_masks(batch_size, size, max_side, device=None):
    """(B, 1, H, W) float masks with one square of side ~ U[0, max_side] at a random place."""
    h, w = size
    u = rand_images(batch_size, 3, device=device)[..., None, None]  # (B, 3, 1, 1)
    side = (u[:, 0] * (max_side + 1)).long().clamp(max=max_side)
    cy = (u[:, 1] * h).long().clamp(max=h - 1)
    cx = (u[:, 2] * w).long().clamp(max=w - 1)
    ys = torch.arange(h, device=device).view(1, h, 1)
    xs = torch.arange(w, device=device).view(1, 1, w)
    inside = ((ys - cy + side // 2) >= 0) & ((ys - cy + side // 2) < side) & \
        ((xs - cx + side // 2) >= 0) & ((xs - cx + side // 2) < side)
    return inside[:, None].float()
