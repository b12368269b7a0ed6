"""SDCA's semantic-distribution-aware contrast: the closed-form bound of infinitely many pairs."""
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import nn

from ..utils.class_statistics import ClassStatistics
from ..utils.global_batch import global_mean
from ..utils.precision import upcast

STATS_SPACES = ('raw', 'normalized')


def augmented_logits(q, mean, cov, tau):
    """z_k(q) = qᵀμ_k/τ + qᵀΣ_k q/(2τ²) for every query and class (SDCA Eq. 13).

    Args:
        q (Tensor): (N, A) queries.
        mean (Tensor): (K, A) class means μ_k.
        cov (Tensor): (K, A) variances (diagonal Σ_k), (K, A, A) full Σ_k, or (K, 0) (no
            covariance: z_k = qᵀμ_k/τ).
        tau (float): temperature τ.

    Returns:
        tuple[Tensor, Tensor]: z (N, K) and the quadratic forms qᵀΣ_k q (N, K).
    """
    if cov.dim() == 3:  # full Σ_k, one class at a time: never an (N, K, A) tensor
        quad = torch.stack([((q @ c) * q).sum(1) for c in cov], dim=1)
    elif cov.shape[1]:
        quad = (q * q) @ cov.t()  # (q⊙q)·σ²_k (§3.4f)
    else:
        quad = q.new_zeros(q.shape[0], mean.shape[0])
    return q @ mean.t() / tau + quad / (2 * tau ** 2), quad


def distribution_contrast(q, labels, mean, cov, tau, reduction='mean'):
    """The upper bound L̄ of the contrast with infinitely many Gaussian positives and negatives,
    averaged over the queries (SDCA Eq. 14, = Eq. 13):

        L̄_i = −log softmax(z(q_i))_{y_i} + q_iᵀΣ_{y_i} q_i/(2τ²) = logsumexp_k z_k − q_iᵀμ_{y_i}/τ

    Args:
        q (Tensor): (N, A) queries (gradients flow into them only).
        labels (Tensor): (N,) classes in [0, K).
        mean, cov, tau: see :func:`augmented_logits` (constants).

        reduction (str): ``'mean'`` or ``'sum'`` over the queries.

    Returns:
        Tensor: the scalar mean (or sum) over the N queries.
    """
    z, quad = augmented_logits(q, mean, cov, tau)
    penalty = quad.gather(1, labels[:, None]).squeeze(1) / (2 * tau ** 2)
    per_query = F.cross_entropy(z, labels, reduction='none') + penalty
    return per_query.mean() if reduction == 'mean' else per_query.sum()


@MODELS.register_module()
class DistributionContrast(nn.Module):
    """SDCA's semantic-distribution-aware contrastive loss at one level (Li et al., "Semantic
    Distribution-aware Contrastive Adaptation for Semantic Segmentation", §3.2, Eq. 6-16).

    Every valid pixel q (L2-normalised, §3.2.1) of class y is pulled to infinitely many samples of
    class y's Gaussian N(μ_y, Σ_y) and pushed from those of every other class; in the limit, by
    Jensen and the Gaussian moment-generating function, the loss is the closed form
    :func:`distribution_contrast` (Eq. 6–14). The Gaussians are :class:`ClassStatistics` of the
    source pixels with ground-truth labels (Eq. 2–4), kept in this module (checkpointed, summed over
    ranks) and updated by :meth:`update`.

    Args:
        num_classes (int): K.
        dim (int): A, the queries' dimension (feature channels, or K for the logit level).
        tau (float): temperature τ. The paper gives none; the authors' code uses 100 (default, for
            reproduction), which keeps z within about ±0.01 (spec §3.4h).
        covariance (str): ``'diag'`` (the authors' code), ``'full'`` (as the paper derives; the
            quadratic forms are computed one class at a time) or ``'none'`` (means only).
        stats_space (str): ``'raw'`` (code): statistics of the raw features; inside the loss μ_k
            and Σ_k are rescaled to unit norm (L2 of the mean; L2 of the variance vector, resp.
            the Frobenius norm of a full Σ_k, which is the same for a diagonal one).
            ``'normalized'`` (consistent with the derivation): statistics of the L2-normalised
            queries, used as they are.
        update (str): ``'cumulative'`` (Eq. 3–4) or ``'ema'`` (an option, not the paper).
        momentum (float): the EMA's weight of the old statistics.
        loss_weight (float): λ_feat / λ_out (Eq. 18: 1.0).
        eps (float): guard of the normalisations (a class never seen has μ = 0 and z_k = 0).
    """

    def __init__(self, num_classes, dim, tau=100.0, covariance='diag', stats_space='raw',
                 update='cumulative', momentum=0.99, loss_weight=1.0, eps=1e-12):
        super().__init__()
        if stats_space not in STATS_SPACES:
            raise ValueError(f'DistributionContrast: stats_space must be one of {STATS_SPACES}, '
                             f'got {stats_space!r}')
        if not tau > 0:
            raise ValueError(f'DistributionContrast: tau must be > 0, got {tau}')
        self.stats = ClassStatistics(num_classes, dim, covariance, update, momentum)
        self.tau, self.stats_space = float(tau), stats_space
        self.loss_weight, self.eps = loss_weight, eps

    @property
    def initialized(self):
        return bool(self.stats.count.sum() > 0)

    def _queries(self, features):
        return F.normalize(upcast(features), dim=1, eps=self.eps)

    def update(self, features, labels):
        """Merge the (N, A) source features with their (N,) ground-truth labels into the
        statistics (all ranks' batches; labels outside [0, K) skipped)."""
        if self.stats_space == 'normalized':
            features = self._queries(features)
        self.stats.update(features.detach(), labels)

    def class_gaussians(self, dtype=torch.float32):
        """μ (K, A) and Σ (K, A) / (K, A, A) / (K, 0) as the loss uses them (constants)."""
        mean, cov = self.stats.mean.detach(), self.stats.cov.detach()
        if self.stats_space == 'raw':  # the code's rescaling (spec §3.4g, 2-3)
            mean = F.normalize(mean, dim=1, eps=self.eps)
            if cov.numel():
                cov = cov / cov.flatten(1).norm(dim=1).clamp_min(self.eps).view(
                    -1, *[1] * (cov.dim() - 1))
        return mean.to(dtype), cov.to(dtype)

    def forward(self, features, labels):
        """λ · mean over the valid pixels (of the global batch) of L̄_i (Eq. 15/16, one domain).

        Args:
            features (Tensor): (N, A) pixel features or logits (normalised here).
            labels (Tensor): (N,) classes; pixels labelled outside [0, K) (ignore, unconfident
                target pixels) are dropped.

        Returns:
            Tensor: the scalar loss, at least float32 (computed outside autocast); 0, still connected to
            ``features``, when no pixel is valid.
        """
        valid = (labels >= 0) & (labels < self.stats.num_classes)
        with torch.autocast(device_type=features.device.type, enabled=False):
            queries = self._queries(features[valid])
            mean, cov = self.class_gaussians(queries.dtype)
            total = distribution_contrast(queries, labels[valid].long(), mean, cov, self.tau,
                                          reduction='sum')
        # the mean over the valid pixels of the global batch; + 0·Σ: connected when there are none
        return self.loss_weight * global_mean(total + upcast(features).sum() * 0.0, valid.sum())
