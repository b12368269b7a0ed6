"""LSGAN losses of the CUT translator (CONFETI spec §2.9: the code's ``gan_mode='lsgan'``; Supp. A4
prints the log/vanilla form, spec §9 item 10)."""
import torch
import torch.nn.functional as F

from ..utils.precision import upcast


def _mse_to(logits, target):
    """Mean of (logits − target)², float32 outside autocast."""
    with torch.autocast(device_type=logits.device.type, enabled=False):
        logits = upcast(logits)
        return F.mse_loss(logits, torch.full_like(logits, target))


def lsgan_d_loss(real_logits, fake_logits):
    """Discriminator loss L_D = ½·[ MSE(ℰ(𝒢(X^S)) → 0) + MSE(ℰ(X^T) → 1) ] (spec §2.9).

    Args:
        real_logits (Tensor): (B, 1, h, w) ℰ logits of real target images.
        fake_logits (Tensor): ℰ logits of translated images; compute them from *detached* images
            (ℰ(𝒢(X).detach())) so L_D does not reach 𝒢. Any shape.

    Returns:
        Tensor: scalar, at least float32.
    """
    return 0.5 * (_mse_to(fake_logits, 0.) + _mse_to(real_logits, 1.))


def lsgan_g_loss(fake_logits):
    """Generator loss L_G_GAN = MSE(ℰ(𝒢(X^S)) → 1) (spec §2.9; λ_GAN = 1 is the caller's).

    Args:
        fake_logits (Tensor): ℰ logits of translated (not detached) images. Any shape.

    Returns:
        Tensor: scalar, at least float32.
    """
    return _mse_to(fake_logits, 1.)
