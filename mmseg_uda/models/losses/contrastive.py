"""Pixel / prototype contrastive losses."""
import torch
from torch.utils.checkpoint import checkpoint

from ..utils.global_batch import global_mean
from ..utils.precision import upcast

# a logit that is -inf for the softmax (exp underflows to exactly 0 against any real logit) but keeps
# every gradient finite when a whole row is masked
MASKED_LOGIT = -1e9


def supervised_info_nce(anchors, anchor_labels, keys, key_labels, tau):
    """Supervised InfoNCE with one denominator per positive pair (CLDA Eq. 1; SupContrast form).

    For an anchor v of class c, P(v) = keys of class c and N(v) = keys of every other class:

        L = (1/|A|) Σ_{v∈A} (1/|P(v)|) Σ_{v⁺∈P(v)} −log( e^{v·v⁺/τ} / (e^{v·v⁺/τ} + Σ_{v⁻∈N(v)} e^{v·v⁻/τ}) ),

    with A the anchors that have at least one positive (over the global batch inside a training
    iteration: :func:`global_mean`). Computed stably in float32 (−l⁺ + logaddexp(l⁺, logsumexp l⁻))
    outside autocast. Embeddings are used as given (normalise them first for cosine similarities).

    Args:
        anchors (Tensor): (N, D) anchor embeddings (gradients flow through them).
        anchor_labels (Tensor): (N,) anchor classes.
        keys (Tensor): (M, D) key embeddings (detach them for MoCo-style keys).
        key_labels (Tensor): (M,) key classes.
        tau (float): temperature τ.

    Returns:
        Tensor: the scalar loss; 0 (still connected to ``anchors``) when no anchor has a positive.
    """
    with torch.autocast(device_type=anchors.device.type, enabled=False):
        logits = upcast(anchors) @ upcast(keys).t() / tau  # (N, M)
        pos = anchor_labels[:, None] == key_labels[None, :]
        neg_lse = torch.logsumexp(logits.masked_fill(pos, float('-inf')), dim=1, keepdim=True)
        pair = torch.logaddexp(logits, neg_lse) - logits  # −log softmax over {v⁺} ∪ N(v)
        n_pos = pos.sum(1)
        has_pos = n_pos > 0
        per_anchor = (pair * pos).sum(1)[has_pos] / n_pos[has_pos]
        # + 0 · Σ anchors: connected to the anchors when none has a positive
        return global_mean(per_anchor.sum() + upcast(anchors).sum() * 0.0, has_pos.sum())


def negative_logsumexp(anchors, keys, tau, exclude=(), chunk_size=4096):
    """log Σ_k exp(a_n·k/τ) over the keys k that anchor n keeps, in key chunks (float32).

    Key k is dropped for anchor n when ``anchor_ids[n] == key_ids[k]`` for any pair of ``exclude``
    (e.g. the anchor's own position, or its class). The (N, M) similarity matrix is never held:
    each chunk of ``chunk_size`` keys is reduced to (N,) and, when gradients are needed,
    recomputed in the backward pass (activation checkpointing), so memory is O(N · chunk_size).
    An anchor without any kept key gets ≈ −1e9, i.e. e^(−1e9) = 0 negatives, with finite
    gradients.

    Args:
        anchors (Tensor): (N, D); gradients flow through them.
        keys (Tensor): (M, D); gradients flow through them unless detached.
        tau (float): temperature τ.
        exclude (Sequence[tuple[Tensor, Tensor]]): pairs of (N,) anchor ids and (M,) key ids.
        chunk_size (int): keys per chunk.

    Returns:
        Tensor: (N,), at least float32.
    """
    def chunk_lse(a, k, *ids):
        with torch.autocast(device_type=a.device.type, enabled=False):
            logits = upcast(a) @ upcast(k).t() / tau
            drop = torch.zeros(logits.shape, dtype=torch.bool, device=a.device)
            for a_id, k_id in zip(ids[0::2], ids[1::2]):
                drop |= a_id[:, None] == k_id[None, :]
            return logits.masked_fill(drop, MASKED_LOGIT).logsumexp(1)

    if keys.shape[0] == 0:
        return anchors.new_full((anchors.shape[0], ), MASKED_LOGIT, dtype=torch.float32) \
            + upcast(anchors).sum(1) * 0
    grad = torch.is_grad_enabled() and (anchors.requires_grad or keys.requires_grad)
    anchors = upcast(anchors)  # once: the chunks' gradients accumulate in float32 under AMP
    parts = []
    for start in range(0, keys.shape[0], chunk_size):
        ids = [t for a_id, k_id in exclude for t in (a_id, k_id[start:start + chunk_size])]
        args = (anchors, keys[start:start + chunk_size], *ids)
        parts.append(checkpoint(chunk_lse, *args, use_reentrant=False) if grad
                     else chunk_lse(*args))
    return torch.stack(parts, 1).logsumexp(1)
