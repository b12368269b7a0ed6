"""CONFETI's prototype losses (Li et al., "Contrast, Stylize and Adapt", §3.2.1 and Supp. A):
pixel-to-prototype contrast L_PCL (Eq. 8–9), the diversity regulariser L_Reg (Supp. A3) and the
prototypical semantic consistency L_SC (Eq. 11) with its learnable affine map φ."""
import math

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

from ..utils.global_batch import (gather_global_with_grad, global_mean, rand_shared,
                                  select_global, sum_global)
from ..utils.precision import upcast
from ..utils.sampling import labels_to_grid


def _check_prototypes(prototypes, dim, fn):
    if prototypes.dim() != 2 or prototypes.shape[1] != dim:
        raise ValueError(f'{fn}: prototypes must be (K, {dim}) for {dim}-d features, got '
                         f'{tuple(prototypes.shape)}')


def _check_tau(tau, fn):
    if not tau > 0:
        raise ValueError(f'{fn}: tau must be > 0, got {tau}')


def _columns_and_labels(feats, labels, fn):
    """(B, D, h, w) maps with (B, H, W) / (B, 1, H, W) labels (sampled on the h×w grid by
    :func:`labels_to_grid`, ``'nearest'``), or (N, D) rows with (N,) labels -> a (G, D, M) view of
    the features (no copy) and (G, M) labels."""
    if feats.dim() == 4:
        if labels.dim() == 4 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.dim() != 3 or labels.shape[0] != feats.shape[0]:
            raise ValueError(f'{fn}: labels must be (B, H, W) with B = {feats.shape[0]}, got '
                             f'{tuple(labels.shape)}')
        labels = labels_to_grid(labels, feats.shape[-2:], 'nearest')
        return feats.flatten(2), labels.flatten(1)
    if feats.dim() == 2:
        if tuple(labels.shape) != (feats.shape[0], ):
            raise ValueError(f'{fn}: labels must be (N,) = ({feats.shape[0]},), got '
                             f'{tuple(labels.shape)}')
        return feats.t()[None], labels[None]
    raise ValueError(f'{fn}: feats must be (B, D, h, w) or (N, D), got {tuple(feats.shape)}')


def pixel_prototype_contrast(feats, labels, prototypes, tau=0.1, num_samples=4096):
    """L_PCL, the pixel-to-prototype contrast of CONFETI Eq. (8)–(9) as the code computes it.

    L = −(1/N) Σ_j log softmax_{y_j}(v_j·Pᵀ/T), a K-way cross-entropy against the K prototypes,
    over N = ``num_samples`` valid positions drawn uniformly without replacement (all of them if
    fewer; spec §2.7). The student embeddings v are ℓ2-normalised here; the prototypes are used
    as given and detached (a never-updated zero prototype gives logit 0). Labels of (B, H, W)
    maps are sampled on the feature grid by :func:`labels_to_grid` (``'nearest'``). Computed in
    float32 outside autocast.

    Args:
        feats (Tensor): (B, D, h, w) projections g(f) of the student, or (N, D) rows; unnormalised.
        labels (Tensor): (B, H, W) or (B, 1, H, W) labels at any resolution for maps, (N,) for
            rows; values outside [0, K) (the ignore index) are not used.
        prototypes (Tensor): (K, D) prototypes P (unit rows or zeros).
        tau (float): temperature T. Default: 0.1.
        num_samples (int): N. Default: 4096.

    Returns:
        Tensor: the scalar loss (at least float32); 0, still connected to ``feats``, without valid pixels.
    """
    fn = 'pixel_prototype_contrast'
    _check_tau(tau, fn)
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f'{fn}: num_samples must be an int >= 1, got {num_samples!r}')
    cols, labels = _columns_and_labels(feats, labels, fn)
    _check_prototypes(prototypes, cols.shape[1], fn)
    K, M = prototypes.shape[0], labels.shape[1]
    labels = labels.flatten()
    valid = (labels >= 0) & (labels < K)
    # uniform sampling without replacement: the num_samples largest random keys, invalid
    # positions keyed below every valid one and masked afterwards; over the global batch inside
    # a training iteration (this rank gets the samples that fall on its pixels)
    def largest_keys(valid_rows):
        keys = rand_shared(valid_rows.numel(), device=labels.device).masked_fill(
            valid_rows == 0, -1.0)
        return keys.topk(min(num_samples, keys.numel())).indices
    idx = select_global(largest_keys, valid.to(torch.uint8))
    keep = valid[idx].float()
    with torch.autocast(device_type=feats.device.type, enabled=False):
        v = F.normalize(upcast(cols[idx // M, :, idx % M]), dim=1)  # (n, D), sampled first
        logits = v @ upcast(prototypes.detach()).t() / tau  # (n, K), Eq. (8)
        ce = F.cross_entropy(logits, labels[idx].long().clamp(0, K - 1), reduction='none')
        # Eq. (9): the mean over the valid samples; + 0·Σ: connected when there are none
        return global_mean((ce * keep).sum() + upcast(feats).sum() * 0.0, keep.sum())


def diversity_regularizer(feats, prototypes, tau=0.1, sign=1, labels=None, norm=None):
    """L_Reg, the diversity regulariser of CONFETI Supp. (A3) as the code computes it.

    L = sign · Σ_c log softmax_c(v̄·Pᵀ/T) / (K ln K), v̄ the mean of all valid ℓ2-normalised
    embeddings of the call (not only the pixels PCL samples; spec §2.8). A3 as printed lacks the
    log. ``sign=+1`` is the code (and SePiCo): minimising it makes the softmax of v̄ *peaked*;
    ``sign=-1`` is the stated intent (diversity). A uniform softmax gives −sign. Prototypes are
    detached. Computed in float32 outside autocast.

    Args:
        feats (Tensor): (B, D, h, w) student projections with (B, H, W) ``labels``, (N, D) rows
            with (N,) ``labels`` (None: every row is valid), or (D,) v̄ itself (used as given).
        prototypes (Tensor): (K, D) prototypes.
        tau (float): temperature T. Default: 0.1.
        sign (int): +1 (code) or −1 (intent). Default: +1.
        labels (Tensor, optional): see ``feats``; values outside [0, K) are not used.
        norm (float, optional): the divisor. Default: K ln K (19 ln 19 = 55.944 for K = 19).

    Returns:
        Tensor: the scalar loss (at least float32); 0, still connected to ``feats``, without valid pixels
        or for K = 1 (Σ log q is then 0).
    """
    fn = 'diversity_regularizer'
    _check_tau(tau, fn)
    if sign not in (1, -1):
        raise ValueError(f'{fn}: sign must be +1 (code) or -1 (intent), got {sign!r}')
    if norm is not None and not norm > 0:
        raise ValueError(f'{fn}: norm must be > 0, got {norm}')
    K = prototypes.shape[0]
    with torch.autocast(device_type=feats.device.type, enabled=False):
        if feats.dim() == 1:
            _check_prototypes(prototypes, feats.shape[0], fn)
            mean, has_valid = upcast(feats), True
        else:
            if feats.dim() == 2 and labels is None:
                labels = torch.zeros(feats.shape[0], dtype=torch.long, device=feats.device)
            elif labels is None:
                raise ValueError(f'{fn}: labels are required for (B, D, h, w) feats')
            cols, labels = _columns_and_labels(feats, labels, fn)
            _check_prototypes(prototypes, cols.shape[1], fn)
            valid = ((labels >= 0) & (labels < K)).float()[:, None]  # (G, 1, M)
            v = F.normalize(upcast(cols), dim=1)  # (G, D, M), unit v_j
            # v̄ of the global batch (under DDP the sums of all ranks, with their gradients)
            total = gather_global_with_grad((v * valid).sum((0, 2))[None]).sum(0)
            count = sum_global(valid.sum())
            mean = total / count.clamp(min=1)  # v̄
            has_valid = count > 0
        if norm is None:
            norm = K * math.log(K)
        if norm == 0:  # K = 1
            return upcast(feats.sum()) * 0.0
        log_q = F.log_softmax(mean @ upcast(prototypes.detach()).t() / tau, dim=0)
        return sign * log_q.sum() / norm * has_valid


def semantic_consistency_loss(source_emb, stylised_emb, prototypes):
    """L_SC, the prototypical semantic consistency of CONFETI Eq. (11) as the code computes it.

    L = mean over B·h·w·K of (φ(v̂_j)·p_c − v_j·p_c)², v = g(f_b(X^S)) of the original source
    (detached), v̂ = g(f_b(X̂^{S→T})) of the stylised source after φ, neither normalised, the
    prototypes detached (spec §2.10). Gradients reach only the stylised side (φ and, through
    X̂^{S→T}, the generator); the caller freezes the segmenter on that side, applies φ and the
    0.1 weight. Computed in float32 outside autocast.

    Args:
        source_emb (Tensor): (B, D, h, w) or (N, D) source projections v (detached here).
        stylised_emb (Tensor): the same shape, φ of the stylised-source projections.
        prototypes (Tensor): (K, D) prototypes.

    Returns:
        Tensor: the scalar loss (at least float32).
    """
    fn = 'semantic_consistency_loss'
    if source_emb.shape != stylised_emb.shape:
        raise ValueError(f'{fn}: stylised_emb must have the shape of source_emb '
                         f'{tuple(source_emb.shape)}, got {tuple(stylised_emb.shape)}')
    if source_emb.dim() not in (2, 4):
        raise ValueError(f'{fn}: source_emb must be (B, D, h, w) or (N, D), got '
                         f'{tuple(source_emb.shape)}')
    _check_prototypes(prototypes, source_emb.shape[1], fn)
    with torch.autocast(device_type=stylised_emb.device.type, enabled=False):
        p = upcast(prototypes.detach())
        eq = 'bdhw,kd->bhwk' if source_emb.dim() == 4 else 'nd,kd->nk'
        target = torch.einsum(eq, upcast(source_emb.detach()), p)  # v·Pᵀ
        pred = torch.einsum(eq, upcast(stylised_emb), p)  # φ(v̂)·Pᵀ
        return F.mse_loss(pred, target)


@MODELS.register_module()
class AffineProjection(nn.Module):
    """φ of CONFETI Eq. (11): a learnable affine map of the stylised-source projections.

    ``'linear'`` is the code's ``reg_proj``, a 1×1 conv D→D with bias and PyTorch's default init
    (spec §2.10); ``'channel'`` the per-channel reading of "affine", v ↦ a ⊙ v + b, initialised
    to the identity.

    Args:
        channels (int): D. Default: 512.
        mode (str): ``'linear'`` or ``'channel'``. Default: ``'linear'``.
    """

    def __init__(self, channels=512, mode='linear'):
        super().__init__()
        if mode not in ('linear', 'channel'):
            raise ValueError(f"AffineProjection: mode must be 'linear' or 'channel', got {mode!r}")
        if channels <= 0:
            raise ValueError(f'AffineProjection: channels must be > 0, got {channels}')
        self.channels, self.mode = channels, mode
        if mode == 'linear':
            self.conv = nn.Conv2d(channels, channels, 1, bias=True)
        else:
            self.scale = nn.Parameter(torch.ones(channels))
            self.shift = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        """φ(x) of (B, D, h, w) maps or (N, D) rows, same shape."""
        if x.dim() not in (2, 4) or x.shape[1] != self.channels:
            raise ValueError(f'AffineProjection: x must be (B, {self.channels}, h, w) or '
                             f'(N, {self.channels}), got {tuple(x.shape)}')
        if self.mode == 'linear':
            if x.dim() == 2:
                return F.linear(x, self.conv.weight[:, :, 0, 0], self.conv.bias)
            return self.conv(x)
        shape = (1, -1, 1, 1) if x.dim() == 4 else (1, -1)
        return x * self.scale.view(shape) + self.shift.view(shape)
