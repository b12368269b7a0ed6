"""Masked image consistency (MIC, Hoyer et al., CVPR 2023): the masked view of a target image."""
import math

import torch

from .checks import BETA, COUNT, NON_NEGATIVE, check_keys
from .global_batch import global_rows, rand_images
from .mixing import StrongPhotometricAug

# MIC §3.2 / §4.1: 64x64 blocks, mask ratio 0.7, λ_m = 1; the target view is colour-augmented
# as DAFormer's mixed images (jitter 0.2 with prob. 0.8, blur)
MIC_DEFAULTS = dict(block_size=64, ratio=0.7, loss_weight=1.0, images='target',
                    color_aug=dict(color_jitter_strength=0.2, color_jitter_prob=0.2, blur=True))
MIC_IMAGES = ('target', 'source_and_target')
MIC_RULES = dict(block_size=COUNT, ratio=BETA, loss_weight=NON_NEGATIVE, images=MIC_IMAGES)


def block_masks(batch, size, block_size=64, ratio=0.7, device=None):
    """MIC Eq. 5: M[mb:(m+1)b, nb:(n+1)b] = [v > r], v ~ U(0, 1) per b×b block and image.

    Drawn for the global batch and sliced (:func:`rand_images`), so N processes draw what one
    does. Blocks are laid from the top-left corner; the last row / column of blocks is cut at the
    image border.

    Args:
        batch (int): number of images B (this rank's).
        size (tuple[int, int]): image size (H, W).
        block_size (int): b (MIC: 64).
        ratio (float): r, the expected share of masked blocks (MIC: 0.7).

    Returns:
        Tensor: float (B, 1, H, W), 1 where the pixel is kept, 0 where it is masked.
    """
    h, w = size
    grid = (math.ceil(h / block_size), math.ceil(w / block_size))
    keep = (rand_images(batch, 1, *grid, device=device) > ratio).float()
    return keep.repeat_interleave(block_size, 2).repeat_interleave(block_size, 3)[..., :h, :w]


class MaskedConsistency:
    """The masked target view x^M = M ⊙ aug(x_T) of MIC Eq. 6; the segmentor trains the student
    on it against the teacher's pseudo-labels of the complete target image with their quality
    weights (Eq. 7, λ_m ``loss_weight``). Masked pixels are 0 in the normalised space (the mean
    colour), as MIC's code masks the normalised image.

    Args:
        owner (str): the segmentor's type name, for errors.
        mean, std (Sequence[float]): the data preprocessor's normalisation (0-255 scale).
        block_size, ratio, loss_weight: see :data:`MIC_DEFAULTS`.
        images (str): what is masked (:meth:`images_of`): ``'target'`` (MIC's mask modes
            ``separatetrg[aug]``, its synthetic-to-real configs) or ``'source_and_target'``
            (``separate[aug]``, its Cityscapes -> ACDC / Dark Zurich configs).
        color_aug (dict | None): :class:`StrongPhotometricAug` arguments (None: no augmentation).
    """

    def __init__(self, owner, mean, std, **cfg):
        unknown = sorted(set(cfg) - set(MIC_DEFAULTS))
        if unknown:
            raise KeyError(f'{owner}: unknown keys {unknown} in model.masked_consistency; '
                           f'valid: {sorted(MIC_DEFAULTS)}')
        cfg = {**MIC_DEFAULTS, **cfg}
        check_keys(owner, {k: cfg[k] for k in MIC_RULES}, MIC_RULES, 'masked_consistency.')
        self.block_size, self.ratio = cfg['block_size'], cfg['ratio']
        self.loss_weight, self.images = cfg['loss_weight'], cfg['images']
        self.aug = None if cfg['color_aug'] is None else StrongPhotometricAug(
            mean, std, **cfg['color_aug'])

    def images_of(self, src_img, src_label, tgt_img, pseudo_label, pseudo_weight):
        """The images to mask, with their labels and weights: the target images with the teacher's
        pseudo-labels ŷ_T and weights q, or (``'source_and_target'``) the source images with their
        ground truth (weight 1) at even positions of the global batch and the target images at odd
        ones, as MIC's code masks one source and one target image of its batch of 2 per GPU.
        Source and target images must have the same size (B, 3, H, W)."""
        if self.images == 'target':
            return tgt_img, pseudo_label, pseudo_weight
        if src_img.shape != tgt_img.shape:
            raise ValueError(f"masked_consistency.images='source_and_target' needs source and "
                             f'target batches of one size, got {tuple(src_img.shape)} and '
                             f'{tuple(tgt_img.shape)}')
        source = global_rows(tgt_img.shape[0], tgt_img.device) % 2 == 0

        def pick(src, tgt):
            return torch.where(source.view(-1, *[1] * (tgt.dim() - 1)), src, tgt)
        return (pick(src_img, tgt_img), pick(src_label, pseudo_label),
                pick(torch.ones_like(pseudo_weight), pseudo_weight))

    def __call__(self, img):
        """The masked, augmented view of the normalised target images (B, 3, H, W)."""
        if self.aug is not None:
            img = self.aug(img)
        mask = block_masks(img.shape[0], img.shape[2:], self.block_size, self.ratio, img.device)
        return img * mask.to(img.dtype)
