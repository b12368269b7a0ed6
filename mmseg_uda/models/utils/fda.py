"""Fourier Domain Adaptation (Yang & Soatto, CVPR 2020): the source→target image translation."""
import torch


def fda_source_to_target(src, tgt, beta=0.01):
    """Give ``src`` the low-frequency amplitude spectrum of ``tgt``, keeping the source phase.

    FDA Eq. 3: x_{s→t} = F⁻¹([M_β ∘ A(x_t) + (1 − M_β) ∘ A(x_s)] · e^{iΦ(x_s)}), per channel, with M_β
    the centred square of half-side b = ⌊β · min(H, W)⌋, i.e. the four b×b corner blocks of the
    un-shifted two-sided spectrum (Yang & Soatto, CVPR 2020, §3); real part, clamped to [0, 255].
    Apply it to raw pixel values (0–255), before mean/std normalisation. β = 0 (b = 0) is the
    identity. Computed in float32 (float64 for float64 input) outside autocast.

    Args:
        src (Tensor): source images (..., H, W), raw pixel values.
        tgt (Tensor): target images broadcastable to ``src`` (same H, W).
        beta (float): β, the band as a fraction of the shorter side (FDA: 0.01, 0.05 or 0.09).

    Returns:
        Tensor: the translated images, ``src``'s shape and dtype.
    """
    if src.shape[-2:] != tgt.shape[-2:]:
        raise ValueError(f'FDA: source size {tuple(src.shape[-2:])} differs from target size '
                         f'{tuple(tgt.shape[-2:])}')
    if not 0 <= beta < 0.5:
        raise ValueError(f'FDA: beta must be in [0, 0.5), got {beta}')
    h, w = src.shape[-2:]
    b = int(min(h, w) * beta)
    if b == 0:
        return src.clone()
    with torch.autocast(device_type=src.device.type, enabled=False):
        dtype = torch.float64 if src.dtype == torch.float64 else torch.float32
        fs = torch.fft.fft2(src.to(dtype))
        ft = torch.fft.fft2(tgt.to(dtype))
        amp = fs.abs()
        low = torch.zeros(h, w, dtype=torch.bool, device=src.device)
        rows = torch.cat([torch.arange(b), torch.arange(h - b, h)])
        cols = torch.cat([torch.arange(b), torch.arange(w - b, w)])
        low[rows[:, None], cols[None, :]] = True
        amp = torch.where(low, ft.abs().expand_as(amp), amp)
        out = torch.fft.ifft2(torch.polar(amp, fs.angle())).real.clamp(0, 255)
    return out.to(src.dtype)
