"""ClassStatistics: SDCA's pooled class-conditional mean / covariance (Eq. 2–4)."""
import os.path as osp

import pytest
import torch
from conftest import REPO
from test_ddp_exactness import run_torchrun

from mmseg_uda.models.utils.class_statistics import ClassStatistics


def batches(seed=0, n=3, rows=40, dim=3, classes=4):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        x = torch.randn(rows, dim, generator=g) * 2 + 1
        y = torch.randint(0, classes, (rows, ), generator=g)
        y[:3] = 255  # ignored pixels never count
        out.append((x, y))
    return out


@pytest.mark.parametrize('covariance', ['diag', 'full'])
def test_cumulative_update_equals_the_statistics_of_all_pixels_seen(covariance):
    stats = ClassStatistics(4, 3, covariance=covariance)
    data = batches()
    for x, y in data:
        stats.update(x, y)
    x = torch.cat([b[0] for b in data]).double()
    y = torch.cat([b[1] for b in data])
    for k in range(4):
        xk = x[y == k]
        assert stats.count[k] == len(xk)
        torch.testing.assert_close(stats.mean[k], xk.mean(0))
        cov = torch.cov(xk.t(), correction=0)  # population covariance (SDCA's code)
        expected = cov.diagonal() if covariance == 'diag' else cov
        torch.testing.assert_close(stats.cov[k], expected)


def test_a_hand_checked_merge():
    """Batch 1: class 0 = {0, 2} (μ 1, σ² 1); batch 2: class 0 = {4} (μ' 4, σ'² 0).
    Eq. 3: w = 1/3, μ = 2/3·1 + 1/3·4 = 2; Eq. 4: σ² = 2/3·1 + 0 + 2/9·(1 − 4)² = 8/3."""
    stats = ClassStatistics(2, 1)
    stats.update(torch.tensor([[0.], [2.]]), torch.tensor([0, 0]))
    stats.update(torch.tensor([[4.]]), torch.tensor([0]))
    assert stats.mean[0].item() == pytest.approx(2.0)
    assert stats.cov[0].item() == pytest.approx(8 / 3)
    assert stats.count.tolist() == [3.0, 0.0]
    assert stats.mean[1].abs().sum() == 0  # never seen: untouched


def test_absent_classes_and_all_ignore_batches_change_nothing():
    stats = ClassStatistics(3, 2)
    stats.update(torch.ones(4, 2), torch.tensor([0, 0, 1, 1]))
    before = {k: v.clone() for k, v in stats.state_dict().items()}
    stats.update(torch.randn(4, 2), torch.full((4, ), 255))
    stats.update(torch.randn(0, 2), torch.zeros(0, dtype=torch.long))
    for k, v in stats.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert torch.isfinite(stats.cov).all()


def test_ema_update_and_means_only():
    stats = ClassStatistics(1, 1, update='ema', momentum=0.9, covariance='none')
    stats.update(torch.tensor([[1.]]), torch.tensor([0]))  # first sight: copied
    stats.update(torch.tensor([[11.]]), torch.tensor([0]))
    assert stats.mean[0].item() == pytest.approx(0.9 * 1 + 0.1 * 11)
    assert stats.cov.shape == (1, 0)


def test_statistics_are_in_the_state_dict_and_errors_name_the_argument():
    stats = ClassStatistics(2, 3, covariance='full')
    assert set(stats.state_dict()) == {'mean', 'cov', 'count'}
    assert stats.cov.shape == (2, 3, 3) and stats.cov.dtype == torch.float64
    with pytest.raises(ValueError, match='covariance'):
        ClassStatistics(2, 3, covariance='low-rank')
    with pytest.raises(ValueError, match='update'):
        ClassStatistics(2, 3, update='momentum')
    with pytest.raises(ValueError, match='dim'):
        stats.update(torch.zeros(1, 4), torch.zeros(1, dtype=torch.long))


def test_ranks_merge_the_global_batch():
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'class_statistics_check.py'),
                       'CLASS_STATS_DDP_OK')
    assert 'equal the single-process statistics' in out


@pytest.mark.parametrize('covariance', ['diag', 'full'])
def test_moments_are_float64_under_autocast(covariance):
    """Counts, means and covariances merged under bf16 autocast equal those merged without it, for
    float32 and bf16 features: the moment matmuls stay in float64."""
    for dtype in (torch.float32, torch.bfloat16):
        ref, amp = (ClassStatistics(4, 3, covariance) for _ in range(2))
        for feats, labels in batches():
            feats = feats.to(dtype)
            ref.update(feats.double(), labels)
            with torch.autocast('cpu', dtype=torch.bfloat16):
                amp.update(feats, labels)
        for name in ('count', 'mean', 'cov'):
            torch.testing.assert_close(getattr(amp, name), getattr(ref, name), rtol=1e-12,
                                       atol=1e-12)
