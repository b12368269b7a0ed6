"""T2S-DA's pull of pseudo-target features to source prototypes (Wang et al., "Pulling Target to
Source: A New Perspective on Domain Adaptive Semantic Segmentation", §3.2-3.4)."""
import torch
import torch.nn.functional as F
from torch import nn

from ..utils.global_batch import gather_global, local_rows, row_range, world_size
from ..utils.precision import upcast
from ..utils.prototypes import class_prototypes
from ..utils.sampling import proportional_counts, sample_with_replacement


def dynamic_class_weights(conf, label, num_classes, beta=0.5, absent='least_confident'):
    """Dynamic re-weighting (DRW, Eq. 12–13): w*_c = (1 − conf(c))^β / Σ_c' (1 − conf(c'))^β.

    conf(c) is the mean teacher confidence of the target pixels pseudo-labelled c (Eq. 13), over
    the global batch (all ranks). Eq. 12's division by max_c' (1 − conf(c')) cancels in the
    normalisation. A class no pixel is pseudo-labelled as has no conf(c) (0/0 in the paper's
    pseudo-code): ``'least_confident'`` takes conf(c) = 0 (w_c = 1 before normalisation, spec §3.6
    suggestion), ``'exclude'`` gives it w_c = 0. If every weight is 0 (all confidences 1), uniform.

    Args:
        conf (Tensor): teacher confidences max_c p (any shape).
        label (Tensor): teacher pseudo-labels argmax_c p (same shape).
        beta (float): β (0.5).

    Returns:
        Tensor: (C,) float32 weights summing to 1.
    """
    if absent not in ('least_confident', 'exclude'):
        raise ValueError(f"absent must be 'least_confident' or 'exclude', got {absent!r}")
    mean, present = class_prototypes(upcast(conf.reshape(-1, 1)), label.flatten(), num_classes,
                                     normalize=False)
    w = (1 - mean[:, 0]).clamp(min=0)**beta
    w = w * present if absent == 'exclude' else torch.where(present, w, torch.ones_like(w))
    total = w.sum()
    return w / total if total > 0 else torch.full_like(w, 1 / num_classes)


class PullContrast(nn.Module):
    """L_pull: pseudo-target queries pulled to the source prototype of their class (Eq. 2–11).

    For every class c with source pixels (on the feature grid, global batch):

    - positive k_c⁺ = norm(mean of the teacher's source embeddings of class c)      (Eq. 5–6);
    - n_q(c) queries q drawn with replacement from the student's (pseudo-target) embeddings of
      class c: ⌈C · p̂(c) · n⌉ (CBQS, Eq. 11, ``'balanced'``), n (CEQS, ``'equal'``) or, without
      class balance (``'random'``), C·n queries drawn from all labelled pixels;
    - one set of m negatives shared by the class's queries (the pseudo-code), with replacement:
      m/2 teacher source embeddings of another labelled class (Eq. 7) and m/2 teacher target
      embeddings that are unreliable (confidence ≤ γ, the α-quantile of the global batch) and not
      pseudo-labelled c (Eq. 8–9) (DENPS, ``'domain_equal'``; all m from the other domain when one
      is empty), or m from the union (``'union'``);
    - ℓ(q) = −log e^{q·k⁺/τ} / (e^{q·k⁺/τ} + Σ_{k⁻} e^{q·k⁻/τ})  (InfoNCE, Eq. 2), or
      ℓ(q) = ‖q − k⁺‖² (= 2 − 2 q·k⁺ for a unit k⁺; ``'mse'``, no negatives).

    L_pull = Σ_c w*_c mean_q ℓ(q) (the paper's pseudo-code, ``'class_mean'``) or
    (1/C) Σ_c w*_c Σ_q ℓ(q) (Eq. 3, ``'eq3'``); with ``'random'`` queries the pixel mean
    Σ_q C w*_{c(q)} ℓ(q) / Σ_q 1. All embeddings are L2-normalised here; only the queries carry
    gradients (keys are detached). Computed in float32 outside autocast. Under DDP everything is
    that of the global batch: prototypes, γ, p̂, the query and negative draws (from the gathered
    labels and teacher keys); each rank evaluates the queries that fall on its pixels.

    Args:
        num_classes (int): C.
        tau (float): τ (0.2).
        num_queries (int): n (128).
        num_negatives (int): m (1024).
        loss (str): ``'info_nce'`` or ``'mse'``.
        query_sampling (str): ``'balanced'`` (CBQS), ``'equal'`` (CEQS) or ``'random'``.
        negative_sampling (str): ``'domain_equal'`` (DENPS) or ``'union'``.
        unreliable_ratio (float): α (0.5): the target pixels with the lowest α share of
            confidences are negatives.
        reduction (str): ``'class_mean'`` (pseudo-code) or ``'eq3'``.
        prototype (str): ``'normalized_mean'`` (norm of the mean, Eq. 5–6) or
            ``'mean_of_normalized'`` (the pseudo-code's mean of unit vectors, not re-normalised).
    """

    def __init__(self, num_classes, tau=0.2, num_queries=128, num_negatives=1024, loss='info_nce',
                 query_sampling='balanced', negative_sampling='domain_equal',
                 unreliable_ratio=0.5, reduction='class_mean', prototype='normalized_mean'):
        super().__init__()
        for name, value, valid in (
                ('loss', loss, ('info_nce', 'mse')),
                ('query_sampling', query_sampling, ('balanced', 'equal', 'random')),
                ('negative_sampling', negative_sampling, ('domain_equal', 'union')),
                ('reduction', reduction, ('class_mean', 'eq3')),
                ('prototype', prototype, ('normalized_mean', 'mean_of_normalized'))):
            if value not in valid:
                raise ValueError(f'PullContrast: {name} must be one of {valid}, got {value!r}')
        if tau <= 0 or num_queries < 1 or num_negatives < 0 or not 0 < unreliable_ratio <= 1:
            raise ValueError(f'PullContrast: need tau > 0, num_queries >= 1, num_negatives >= 0 '
                             f'and 0 < unreliable_ratio <= 1; got {tau}, {num_queries}, '
                             f'{num_negatives}, {unreliable_ratio}')
        self.num_classes, self.tau = num_classes, tau
        self.num_queries, self.num_negatives = num_queries, num_negatives
        self.loss, self.query_sampling = loss, query_sampling
        self.negative_sampling, self.unreliable_ratio = negative_sampling, unreliable_ratio
        self.reduction, self.prototype = reduction, prototype

    def forward(self, queries, query_labels, src_keys, src_labels, tgt_keys=None, tgt_labels=None,
                tgt_conf=None, class_weights=None):
        """L_pull of (N, D) ``queries`` (with gradient) labelled (N,) ``query_labels``.

        ``src_keys`` (M, D) / ``src_labels`` (M,): the teacher's source embeddings and labels;
        ``tgt_keys`` (T, D), ``tgt_labels`` (T,), ``tgt_conf`` (T,): the teacher's target
        embeddings, pseudo-labels and confidences (None: source negatives only, the domain
        generalisation setting); ``class_weights`` (C,): w* (None: 1/C). Labels outside [0, C)
        are ignored. Returns the scalar loss, 0 (connected to ``queries``) without any query.
        """
        C = self.num_classes
        with torch.autocast(device_type=queries.device.type, enabled=False):
            q = F.normalize(upcast(queries), dim=1)
            protos, present = self.prototypes(upcast(src_keys.detach()), src_labels)
            # queries, p̂ and the negatives are drawn over the global batch (one process's draw):
            # the teacher's keys and every label are gathered, each rank evaluates its queries
            k_src = gather_global(F.normalize(upcast(src_keys.detach()), dim=1))
            src_labels = gather_global(src_labels)
            k_tgt = unreliable = None
            if tgt_keys is not None:
                k_tgt = gather_global(F.normalize(upcast(tgt_keys.detach()), dim=1))
                tgt_labels = gather_global(tgt_labels)
                tgt_conf = gather_global(upcast(tgt_conf.detach()))
                gamma = torch.quantile(tgt_conf, self.unreliable_ratio)
                unreliable = tgt_conf <= gamma  # "< γ" can be empty with ties (spec §9.7)
            w = q.new_full((C, ), 1 / C) if class_weights is None else upcast(class_weights)
            first, _ = row_range(q.shape[0])
            drawn = self.draw_queries(gather_global(query_labels))  # global query indices
            n_drawn = sum(idx.numel() for idx in drawn.values())
            total = q.sum() * 0.0
            for c, idx in drawn.items():
                if not present[c] or idx.numel() == 0:
                    continue
                qc = q[local_rows(idx, first, q.shape[0])]
                pos = qc @ protos[c]
                if self.loss == 'mse':
                    per_query = (qc - protos[c]).pow(2).sum(1)
                else:
                    neg = self.negatives(c, k_src, src_labels, k_tgt, tgt_labels, unreliable)
                    logits = torch.cat([pos[:, None], qc @ neg.t()], 1) / self.tau
                    per_query = logits.logsumexp(1) - logits[:, 0]
                # this rank's part of the global sums; × W: DDP averages the ranks' losses
                part = per_query.sum() * world_size()
                if self.query_sampling == 'random':
                    total = total + C * w[c] * part / n_drawn
                elif self.reduction == 'eq3':
                    total = total + w[c] * part / C
                else:
                    total = total + w[c] * part / idx.numel()
            return total

    def prototypes(self, keys, labels):
        """k_c⁺ (Eq. 5–6) over all ranks, and the (C,) mask of classes with source pixels."""
        if self.prototype == 'mean_of_normalized':
            return class_prototypes(F.normalize(keys, dim=1), labels, self.num_classes,
                                    normalize=False)
        return class_prototypes(keys, labels, self.num_classes)

    def draw_queries(self, labels):
        """{class: (n_q(c),) query indices} drawn with replacement (CBQS / CEQS / random)."""
        C = self.num_classes
        valid = ((labels >= 0) & (labels < C)).nonzero().squeeze(1)
        if self.query_sampling == 'random':
            idx = sample_with_replacement(valid, C * self.num_queries)
            return {c: idx[labels[idx] == c] for c in labels[idx].unique().tolist()}
        counts = proportional_counts(labels, C, self.num_queries) \
            if self.query_sampling == 'balanced' else None
        drawn = {}
        for c in labels[valid].unique().tolist():
            n = counts[c] if counts is not None else self.num_queries
            drawn[c] = sample_with_replacement((labels == c).nonzero().squeeze(1), n)
        return drawn

    def negatives(self, c, k_src, src_labels, k_tgt=None, tgt_labels=None, unreliable=None):
        """The m negatives of class c (DENPS or the union), (m, D); fewer when pools are empty."""
        C, m = self.num_classes, self.num_negatives
        src_pool = ((src_labels != c) & (src_labels >= 0) & (src_labels < C)).nonzero().squeeze(1)
        pools = [(k_src, src_pool)]
        if k_tgt is not None:
            pools.append((k_tgt, ((tgt_labels != c) & unreliable).nonzero().squeeze(1)))
        pools = [(k, p) for k, p in pools if p.numel() > 0]
        if not pools:
            return k_src[:0]
        if self.negative_sampling == 'union' and len(pools) == 2:
            keys = torch.cat([k[p] for k, p in pools])
            return keys[sample_with_replacement(torch.arange(keys.shape[0], device=keys.device),
                                                m)]
        shares = [m // len(pools)] * len(pools)
        shares[-1] += m - sum(shares)
        return torch.cat([k[sample_with_replacement(p, n)] for (k, p), n in zip(pools, shares)])
