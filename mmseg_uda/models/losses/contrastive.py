"""Pixel / prototype contrastive losses."""
import torch


def supervised_info_nce(anchors, anchor_labels, keys, key_labels, tau):
    """Supervised InfoNCE with one denominator per positive pair (CLDA Eq. 1; SupContrast form).

    For an anchor v of class c, P(v) = keys of class c and N(v) = keys of every other class:

        L = (1/|A|) Σ_{v∈A} (1/|P(v)|) Σ_{v⁺∈P(v)} −log( e^{v·v⁺/τ} / (e^{v·v⁺/τ} + Σ_{v⁻∈N(v)} e^{v·v⁻/τ}) ),

    with A the anchors that have at least one positive. Computed stably in float32
    (−l⁺ + logaddexp(l⁺, logsumexp l⁻)) outside autocast. Embeddings are used as given (normalise
    them first for cosine similarities).

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
        logits = anchors.float() @ keys.float().t() / tau  # (N, M)
        pos = anchor_labels[:, None] == key_labels[None, :]
        neg_lse = torch.logsumexp(logits.masked_fill(pos, float('-inf')), dim=1, keepdim=True)
        pair = torch.logaddexp(logits, neg_lse) - logits  # −log softmax over {v⁺} ∪ N(v)
        n_pos = pos.sum(1)
        has_pos = n_pos > 0
        if not has_pos.any():
            return anchors.sum() * 0.0
        per_anchor = (pair * pos).sum(1)[has_pos] / n_pos[has_pos]
        return per_anchor.mean()
