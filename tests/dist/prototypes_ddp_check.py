"""Run by tests/test_confeti_losses.py under torchrun (2 CPU processes, gloo).

Each rank updates MomentumPrototypes with its own, differently sized share of every batch;
afterwards every rank holds bit-identical prototypes, equal to one process's update over the
concatenated rows (CAM weights distinct, so the top-n is unique). With uniform weights (random
tie-breaks) the ranks still agree.
"""
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mmseg_uda.models.utils.prototypes import MomentumPrototypes  # noqa: E402
from rank_checks import assert_same_on_all_ranks, finish  # noqa: E402

SPLIT = 30  # rank 0 gets rows [:30], rank 1 rows [30:80]


def batches():
    g = torch.Generator().manual_seed(0)
    out = []
    for _ in range(3):
        labels = torch.randint(0, 5, (80, ), generator=g)  # 4 is not a class (K = 4)
        labels[::7] = 255
        out.append((torch.randn(80, 6, generator=g), labels, torch.rand(80, 4, generator=g)))
    return out


def main():
    torch.set_num_threads(1)
    data = batches()
    single = MomentumPrototypes(4, 6, momentum=0.5, top_n=3)
    for feats, labels, cams in data:  # the references, before the process group exists
        single.update(feats, labels, cams)
    rank0_only = MomentumPrototypes(4, 6, momentum=0.5, top_n=3)
    for feats, labels, cams in data:
        rank0_only.update(feats[:SPLIT], labels[:SPLIT], cams[:SPLIT])
    assert not torch.allclose(rank0_only.prototypes, single.prototypes)  # the split matters
    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    part = slice(0, SPLIT) if rank == 0 else slice(SPLIT, None)
    weighted = MomentumPrototypes(4, 6, momentum=0.5, top_n=3)
    uniform = MomentumPrototypes(4, 6, momentum=0.5, top_n=3)
    torch.manual_seed(rank)  # different tie-break keys on each rank
    for feats, labels, cams in data:
        weighted.update(feats[part], labels[part], cams[part])
        uniform.update(feats[part], labels[part])
    for module in (weighted, uniform):
        assert_same_on_all_ranks(module.state_dict())
    torch.testing.assert_close(weighted.prototypes, single.prototypes, rtol=1e-6, atol=1e-7)
    assert torch.equal(weighted.count, single.count)
    assert torch.equal(uniform.count, single.count)  # 3 rows per class either way
    finish('DDP prototypes are identical on all ranks and equal the single-process update',
           'PROTOTYPES_DDP_OK')


if __name__ == '__main__':
    main()
