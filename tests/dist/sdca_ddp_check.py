"""Run by tests/test_sdca.py under torchrun (2 CPU processes, gloo).

Three SDCA iterations under DDP, each rank with its own images: every rank holds the same student
and the same class statistics (feature and logit level), and after the first iteration the
statistics count the labelled source cells of both ranks' batches (the batch moments are summed
over ranks before the merge).
"""
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from mmengine.optim import OptimWrapper  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

from mmseg_uda.engine import DeviceAgnosticDDP  # noqa: E402
from mmseg_uda.models.utils.sampling import cell_centre_labels  # noqa: E402
from rank_checks import (assert_ranks_saw_different_images,  # noqa: E402
                         assert_same_on_all_ranks, finish)
from test_dacs import paired_batch  # noqa: E402
from test_sdca import build_sdca  # noqa: E402


def main():
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(1)
    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    torch.manual_seed(0)  # same initial weights on both ranks
    model = build_sdca()
    ddp = DeviceAgnosticDDP(module=model, broadcast_buffers=False, find_unused_parameters=False)
    ow = OptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    for it in range(3):
        batch = paired_batch(seed=10 * it + rank)
        log = ddp.train_step(batch, ow)
        assert float(log['sdca.loss_feat_tgt']) > 0
        if it == 0:
            labels = torch.stack([d.gt_sem_seg.data[0] for d in batch['source']['data_samples']])
            cells = cell_centre_labels(labels, (4, 4))
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
