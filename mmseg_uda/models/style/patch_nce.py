"""PatchNCE (CUT Eq. 5 / CONFETI Eq. 10, Supp. A5-A6; spec §2.9, §6 item 15): the patch sampler with
its per-layer MLPs H_l (CUT's ``netF``) and the loss."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

from ..utils.global_batch import randperm_shared
from ..utils.precision import upcast
from .resnet_generator import CUTInitMixin

# logit of a query against its own key in the negatives block, set before dividing by τ (CUT):
# e^{-10/τ} vanishes next to the positive, so the positive is not counted twice
DIAGONAL_LOGIT = -10.0


@MODELS.register_module()
class PatchSampleMLP(CUTInitMixin, BaseModule):
    """Samples feature locations and projects them with H_l: Linear(C_l, D) → ReLU → Linear(D, D),
    then ℓ2-normalises (spec §2.9).

    The MLPs are built eagerly from ``in_channels`` (CUT builds them at the first forward), so an
    optimiser created before the first iteration sees them (spec §7). One random set of locations
    per layer is shared by every image of the batch; pass the returned ids back to sample the
    queries at the keys' locations.

    Args:
        in_channels (Sequence[int]): channels C_l of the encoder features, one per NCE layer.
            Default: (3, 128, 256, 256, 256), layers 0/4/8/12/16 of the default ResnetGenerator.
        mlp_dim (int): hidden and output width D (CUT's ``netF_nc``). Default: 256.
        init_gain (float): gain of the xavier_normal init. Default: 0.02.
        init_cfg (dict, optional): mmengine init config; replaces the CUT init. Default: None.
    """

    def __init__(self, in_channels=(3, 128, 256, 256, 256), mlp_dim=256, init_gain=0.02,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        in_channels = tuple(in_channels)
        if not in_channels or any(not isinstance(c, int) or c < 1 for c in in_channels):
            raise ValueError(f'PatchSampleMLP: in_channels must be a non-empty sequence of '
                             f'positive ints, got {in_channels!r}')
        if not isinstance(mlp_dim, int) or mlp_dim < 1:
            raise ValueError(f'PatchSampleMLP: mlp_dim must be a positive int, got {mlp_dim!r}')
        self.in_channels, self.mlp_dim, self.init_gain = in_channels, mlp_dim, init_gain
        for i, c in enumerate(in_channels):  # CUT's names (mlp_0, mlp_1, ...) so net_F loads
            self.add_module(f'mlp_{i}', nn.Sequential(
                nn.Linear(c, mlp_dim), nn.ReLU(inplace=True), nn.Linear(mlp_dim, mlp_dim)))
        if init_cfg is None:
            self.init_weights()

    @property
    def mlps(self):
        """The H_l, one per NCE layer."""
        return [getattr(self, f'mlp_{i}') for i in range(len(self.in_channels))]

    def forward(self, feats, num_patches=256, patch_ids=None):
        """Sample and project patches of every layer.

        Args:
            feats (Sequence[Tensor]): one (B, C_l, H_l, W_l) feature per NCE layer (same B).
            num_patches (int): locations P_l = min(num_patches, H_l·W_l) drawn per layer without
                replacement (``torch.randperm``, so ``torch.manual_seed`` reproduces them).
                Default: 256.
            patch_ids (Sequence[Tensor], optional): the ids returned by an earlier call (the keys'
                call); reused instead of drawing new ones, so queries and keys are the same
                locations. Default: None.

        Returns:
            tuple[list[Tensor], list[Tensor]]: per layer the (B, P_l, D) unit-norm projected
            patches, and the (P_l,) long ids of the sampled locations into the row-major H_l·W_l
            grid.
        """
        if len(feats) != len(self.mlps):
            raise ValueError(f'PatchSampleMLP: expected {len(self.mlps)} feature maps (one per '
                             f'in_channels entry), got {len(feats)}')
        if not isinstance(num_patches, int) or num_patches <= 0:
            raise ValueError(f'PatchSampleMLP: num_patches must be a positive int, got '
                             f'{num_patches!r}')
        if patch_ids is not None and len(patch_ids) != len(feats):
            raise ValueError(f'PatchSampleMLP: patch_ids must hold one id tensor per layer '
                             f'({len(feats)}), got {len(patch_ids)}')
        out_feats, out_ids = [], []
        for layer, (feat, mlp) in enumerate(zip(feats, self.mlps)):
            if feat.dim() != 4 or feat.shape[1] != self.in_channels[layer]:
                raise ValueError(f'PatchSampleMLP: feats[{layer}] must be (B, '
                                 f'{self.in_channels[layer]}, H, W), got {tuple(feat.shape)}')
            grid = feat.flatten(2)  # (B, C, HW)
            if patch_ids is None:
                n = min(num_patches, grid.shape[-1])
                ids = randperm_shared(grid.shape[-1], device=feat.device)[:n]
            else:
                ids = torch.as_tensor(patch_ids[layer], dtype=torch.long, device=feat.device)
                if ids.dim() != 1 or ids.numel() == 0 or ids.min() < 0 \
                        or ids.max() >= grid.shape[-1]:
                    raise ValueError(f'PatchSampleMLP: patch_ids[{layer}] must be a non-empty 1-D '
                                     f'tensor of ids in [0, {grid.shape[-1]})')
            patches = grid[:, :, ids].transpose(1, 2)  # (B, P, C): sample before projecting
            out_feats.append(F.normalize(mlp(patches), dim=-1))
            out_ids.append(ids)
        return out_feats, out_ids


def patch_nce_loss(queries, keys, tau=0.07, batch_size=None, reduction='mean'):
    """PatchNCE of one layer (CUT Eq. 5 / CONFETI Eq. 10 and A5; spec §2.9).

    For query ẑ_i of image b (a patch of 𝒢(X)) with the key z_i at the same location of X:

        ℓ_i = −log( e^{ẑ_i·z_i/τ} / (e^{ẑ_i·z_i/τ} + e^{−10/τ} + Σ_{j≠i} e^{ẑ_i·z_j/τ}) ),

    j running over the other sampled locations of the *same* image (CUT's
    ``nce_includes_all_negatives_from_minibatch=False``). The e^{−10/τ} term is CUT's: the
    (i, i) entry of the query-key similarity block is filled with −10 before the division by τ and
    stays in the softmax. Keys are detached. Float32, outside autocast.

    Args:
        queries (Tensor): (B, P, D), or (B·P, D) image-major with ``batch_size`` = B; gradients
            flow.
        keys (Tensor): same shape as ``queries``; detached here.
        tau (float): temperature τ. Default: 0.07.
        batch_size (int, optional): B; required for 2-D inputs (CUT's ``batch_dim_for_bmm``, which
            must be the real batch size, spec §6 item 15), checked against 3-D inputs.
        reduction (str): ``'mean'`` over all B·P patches (CUT's per-layer reduction) or ``'none'``.
            Default: ``'mean'``.

    Returns:
        Tensor: scalar (at least float32), or the per-patch losses in the leading shape of ``queries``.
    """
    if queries.shape != keys.shape or queries.dim() not in (2, 3):
        raise ValueError(f'patch_nce_loss: queries and keys must have the same (B, P, D) or '
                         f'(B*P, D) shape, got {tuple(queries.shape)} and {tuple(keys.shape)}')
    if tau <= 0:
        raise ValueError(f'patch_nce_loss: tau must be > 0, got {tau}')
    if reduction not in ('mean', 'none'):
        raise ValueError(f"patch_nce_loss: reduction must be 'mean' or 'none', got {reduction!r}")
    lead = queries.shape[:-1]
    if queries.dim() == 2:
        if batch_size is None or batch_size < 1 or queries.shape[0] % batch_size:
            raise ValueError(f'patch_nce_loss: batch_size must be a positive divisor of the '
                             f'{queries.shape[0]} rows of 2-D queries, got {batch_size}')
        queries = queries.reshape(batch_size, -1, queries.shape[-1])
        keys = keys.reshape(batch_size, -1, keys.shape[-1])
    elif batch_size is not None and batch_size != queries.shape[0]:
        raise ValueError(f'patch_nce_loss: batch_size {batch_size} does not match the batch '
                         f'dimension {queries.shape[0]} of queries')
    with torch.autocast(device_type=queries.device.type, enabled=False):
        q, k = upcast(queries), upcast(keys.detach())  # q, k: (B, P, D)
        l_pos = (q * k).sum(-1, keepdim=True)  # (B, P, 1)
        l_neg = q @ k.transpose(1, 2)  # (B, P, P): negatives from the same image only
        eye = torch.eye(l_neg.shape[-1], dtype=torch.bool, device=l_neg.device)
        l_neg = l_neg.masked_fill(eye, DIAGONAL_LOGIT)
        logits = torch.cat([l_pos, l_neg], dim=-1) / tau  # (B, P, 1 + P), positive at 0
        loss = logits.logsumexp(-1) - logits[..., 0]  # cross-entropy with target 0
    return loss.mean() if reduction == 'mean' else loss.reshape(lead)


@MODELS.register_module()
class PatchNCELoss(nn.Module):
    """Multi-layer PatchNCE, L_PatchNCE of CONFETI Eq. 10 / Supp. A6 (spec §2.9).

    Each layer's :func:`patch_nce_loss` is averaged over its patches; the layers are then averaged
    (CUT's ``total_nce_loss / n_layers``, the default) or summed as A6 prints it, which scales the
    loss by the number of layers (spec §6 item 24).

    Args:
        tau (float): temperature τ. Default: 0.07.
        layer_reduction (str): ``'mean'`` (code) or ``'sum'`` (A6) over the layers.
            Default: ``'mean'``.
        loss_weight (float): λ_NCE, applied to every layer. Default: 1.0.
    """

    def __init__(self, tau=0.07, layer_reduction='mean', loss_weight=1.0):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'PatchNCELoss: tau must be > 0, got {tau}')
        if layer_reduction not in ('mean', 'sum'):
            raise ValueError(f"PatchNCELoss: layer_reduction must be 'mean' or 'sum', got "
                             f'{layer_reduction!r}')
        self.tau, self.layer_reduction, self.loss_weight = tau, layer_reduction, loss_weight

    def forward(self, queries, keys, batch_size=None):
        """L_PatchNCE over the NCE layers.

        Args:
            queries (Sequence[Tensor]): per layer the (B, P_l, D) projected patches of 𝒢(X)
                (:class:`PatchSampleMLP` output).
            keys (Sequence[Tensor]): per layer the patches of X at the same locations (detached).
            batch_size (int, optional): B, for 2-D (B·P_l, D) inputs.

        Returns:
            Tensor: the scalar loss, at least float32.
        """
        if len(queries) != len(keys) or not queries:
            raise ValueError(f'PatchNCELoss: queries and keys must be non-empty lists of the same '
                             f'length, got {len(queries)} and {len(keys)}')
        per_layer = torch.stack([patch_nce_loss(q, k, self.tau, batch_size)
                                 for q, k in zip(queries, keys)])
        total = per_layer.mean() if self.layer_reduction == 'mean' else per_layer.sum()
        return self.loss_weight * total
