import torch
from torch import nn

from .dist import sum_over_ranks

COVARIANCES = ('diag', 'full', 'none')
UPDATES = ('cumulative', 'ema')


class ClassStatistics(nn.Module):
    """Class-conditional Gaussian statistics (mean, covariance, pixel count) of features, updated
    from labelled batches (SDCA §3.2.2, Eq. 2–4; ISDA's estimator).

    A batch's class-k pixels give m_k, μ'_k (Eq. 2) and the population covariance Σ'_k; they are
    merged into the running statistics with the exact pooled formula (``update='cumulative'``,
    w = m_k / (n_k + m_k)):

        μ_k ← (1 − w) μ_k + w μ'_k                                                       (Eq. 3)
        Σ_k ← (1 − w) Σ_k + w Σ'_k + w (1 − w) (μ_k − μ'_k)(μ_k − μ'_k)ᵀ                 (Eq. 4)
        n_k ← n_k + m_k

    i.e. the statistics of every pixel seen so far (not an EMA); ``update='ema'`` uses a fixed
    w = 1 − ``momentum`` instead (an option, not SDCA). Classes absent from a batch are unchanged.
    The batch moments (counts, sums, second moments) are summed over ranks before the merge, so
    every rank holds the statistics of the global batch, identical to one process seeing it all.
    Moments and statistics are float64 (fp32 counts near 10⁸ pixels are spaced 8 apart).

    Args:
        num_classes (int): number of classes K.
        dim (int): feature dimension A.
        covariance (str): ``'diag'`` (per-dimension variances, SDCA's code), ``'full'`` (A×A per
            class, as the paper derives; second moments computed one class at a time) or
            ``'none'`` (means only).
        update (str): ``'cumulative'`` or ``'ema'``.
        momentum (float): the EMA's weight of the old statistics.
    """

    def __init__(self, num_classes, dim, covariance='diag', update='cumulative', momentum=0.99):
        super().__init__()
        if covariance not in COVARIANCES:
            raise ValueError(f'ClassStatistics: covariance must be one of {COVARIANCES}, '
                             f'got {covariance!r}')
        if update not in UPDATES:
            raise ValueError(f'ClassStatistics: update must be one of {UPDATES}, got {update!r}')
        if num_classes <= 0 or dim <= 0:
            raise ValueError(f'ClassStatistics: num_classes and dim must be > 0, got '
                             f'{num_classes}, {dim}')
        self.num_classes, self.dim = num_classes, dim
        self.covariance, self.update_rule, self.momentum = covariance, update, momentum
        f64 = dict(dtype=torch.float64)
        self.register_buffer('mean', torch.zeros(num_classes, dim, **f64))
        cov_shape = {'diag': (num_classes, dim), 'full': (num_classes, dim, dim),
                     'none': (num_classes, 0)}[covariance]
        self.register_buffer('cov', torch.zeros(cov_shape, **f64))
        self.register_buffer('count', torch.zeros(num_classes, **f64))

    @torch.no_grad()
    def batch_moments(self, features, labels):
        """Per-class pixel counts (K,), sums (K, A) and second moments (K, A) / (K, A, A) of
        features (N, A) with labels (N,) (labels outside [0, K), e.g. ignore, are skipped)."""
        if features.shape[-1] != self.dim:
            raise ValueError(f'ClassStatistics: features of dim {features.shape[-1]}, expected '
                             f'{self.dim}')
        keep = (labels >= 0) & (labels < self.num_classes)
        x, y = features.detach()[keep].double(), labels[keep].long()
        onehot = torch.zeros(y.numel(), self.num_classes, dtype=x.dtype, device=x.device)
        onehot[torch.arange(y.numel(), device=x.device), y] = 1
        counts, sums = onehot.sum(0), onehot.t() @ x
        if self.covariance == 'diag':
            squares = onehot.t() @ (x * x)
        elif self.covariance == 'full':  # one class at a time: never a (N, K, A) tensor
            squares = x.new_zeros(self.num_classes, self.dim, self.dim)
            for k in y.unique().tolist():
                xk = x[y == k]
                squares[k] = xk.t() @ xk
        else:
            squares = x.new_zeros(self.num_classes, 0)
        return counts, sums, squares

    @torch.no_grad()
    def update(self, features, labels):
        """Merge the global batch (every rank's ``features`` (N, A), ``labels`` (N,)) in."""
        counts, sums, squares = self.batch_moments(features, labels)
        counts, sums, squares = (sum_over_ranks(t) for t in (counts, sums, squares))
        seen = counts > 0
        m = counts[seen]
        mean_b = sums[seen] / m[:, None]  # μ' (Eq. 2)
        if self.covariance == 'diag':
            cov_b = squares[seen] / m[:, None] - mean_b ** 2
        elif self.covariance == 'full':
            cov_b = squares[seen] / m[:, None, None] - mean_b[:, :, None] * mean_b[:, None, :]
            cov_b = (cov_b + cov_b.transpose(1, 2)) / 2
        n = self.count[seen]
        w = m / (n + m) if self.update_rule == 'cumulative' else torch.where(
            n > 0, torch.full_like(m, 1 - self.momentum), torch.ones_like(m))
        delta = self.mean[seen] - mean_b
        if self.covariance == 'diag':  # Eq. 4, diagonal
            self.cov[seen] = (1 - w)[:, None] * self.cov[seen] + w[:, None] * cov_b \
                + (w * (1 - w))[:, None] * delta ** 2
        elif self.covariance == 'full':  # Eq. 4
            outer = delta[:, :, None] * delta[:, None, :]
            self.cov[seen] = (1 - w)[:, None, None] * self.cov[seen] \
                + w[:, None, None] * cov_b + (w * (1 - w))[:, None, None] * outer
        self.mean[seen] = (1 - w)[:, None] * self.mean[seen] + w[:, None] * mean_b  # Eq. 3
        self.count[seen] = n + m
