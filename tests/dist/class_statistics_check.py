"""Run by tests/test_class_statistics.py under torchrun (2 CPU processes, gloo).

Each rank updates ClassStatistics with its own half of every batch; afterwards every rank holds
exactly the statistics one process gets from the whole batches (diagonal and full covariance).
"""
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmseg_uda.models.utils.class_statistics import ClassStatistics  # noqa: E402
from rank_checks import assert_same_on_all_ranks, finish  # noqa: E402
from test_class_statistics import batches  # noqa: E402


def main():
    torch.set_num_threads(1)
    data = batches()
    single = {cov: ClassStatistics(4, 3, covariance=cov) for cov in ('diag', 'full')}
    for x, y in data:  # the single-process reference, before the process group exists
        for s in single.values():
            s.update(x, y)
    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    for cov, ref in single.items():
        stats = ClassStatistics(4, 3, covariance=cov)
        for x, y in data:
            half = slice(rank * 20, (rank + 1) * 20)
            stats.update(x[half], y[half])
        assert_same_on_all_ranks(stats.state_dict())
        for name, value in stats.state_dict().items():
            torch.testing.assert_close(value, ref.state_dict()[name], rtol=1e-12, atol=1e-12)
    finish('DDP statistics equal the single-process statistics', 'CLASS_STATS_DDP_OK')


if __name__ == '__main__':
    main()
