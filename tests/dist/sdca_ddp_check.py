"""Run by tests/test_sdca.py under torchrun (2 CPU processes, gloo).

Three SDCA iterations under DDP, each rank with its own images: every rank holds the same student
and the same class statistics (feature and logit level), and after the first iteration the
statistics count the labelled source cells of both ranks' batches (the batch moments are summed
over ranks before the merge).
"""
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from mmseg_uda.models.utils.sampling import labels_to_grid  # noqa: E402
from rank_checks import (assert_ranks_saw_different_images,  # noqa: E402
                         assert_same_on_all_ranks, ddp_iterations, finish, init_ranks)
from test_dacs import paired_batch  # noqa: E402
from test_sdca import build_sdca  # noqa: E402


def main():
    rank = init_ranks()
    torch.manual_seed(0)  # same initial weights on both ranks
    model = build_sdca()
    batches = (paired_batch(seed=10 * it + rank) for it in range(3))
    for it, (batch, log) in enumerate(ddp_iterations(model, batches, own_draws=False)):
        assert float(log['sdca.loss_feat_tgt']) > 0
        if it == 0:
            labels = torch.stack([d.gt_sem_seg.data[0] for d in batch['source']['data_samples']])
            cells = labels_to_grid(labels, (4, 4))
            valid = torch.tensor(float((cells != 255).sum()))
            dist.all_reduce(valid)
            assert float(model.sdca.feat.stats.count.sum()) == float(valid)
    state = {f'student.{n}': p for n, p in model.student.named_parameters()}
    state.update({n: t for n, t in model.state_dict().items() if n.startswith('sdca.')})
    assert len([n for n in state if n.startswith('sdca.')]) == 6
    assert_same_on_all_ranks(state)
    assert_ranks_saw_different_images(model)
    finish(f'{len(state)} state tensors equal on both ranks', 'SDCA_DDP_STATE_OK')


if __name__ == '__main__':
    main()
