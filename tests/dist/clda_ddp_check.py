"""Run by tests/test_clda_ddp.py under torchrun (2 CPU processes, gloo).

Four CLDA iterations under DDP, each rank with its own images (BatchNorm, so each rank's BN
statistics differ): afterwards every rank must hold the same student parameters, the same teacher
(parameters and BN buffers, averaged over ranks at each hard copy), the same memories and the same
label-expansion window, bit for bit.
"""
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from mmengine.optim import OptimWrapper  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

from mmseg_uda.engine import DeviceAgnosticDDP  # noqa: E402
from rank_checks import (assert_ranks_saw_different_images,  # noqa: E402
                         assert_same_on_all_ranks, finish)
from test_clda import blocky_batch, build_clda  # noqa: E402


def shared_state(model):
    """Everything that must agree across ranks, as one flat float tensor per name."""
    state = {f'student.{n}': p for n, p in model.student.named_parameters()}
    state.update({n: t for n, t in model.state_dict().items()
                  if n.startswith(('teacher.', 'contrast.', 'expansion.'))})
    return {n: t.detach().float().flatten() for n, t in state.items()}


def main():
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(1)
    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    torch.manual_seed(0)  # same initial weights on both ranks
    model = build_clda()
    ddp = DeviceAgnosticDDP(module=model, broadcast_buffers=False)
    ow = OptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    torch.manual_seed(100 + rank)  # each rank draws its own augmentations
    for it in range(4):  # hard copies at calls 0 and 2; the window restarted after call 2
        ddp.train_step(blocky_batch(10 * it + rank), ow)
    state = shared_state(model)
    bn = [n for n in state if n.startswith('teacher.') and 'running_mean' in n]
    assert bn, 'no teacher BN buffers to compare'
    assert model.contrast.source_pixels.count.sum() > 0 and model.expansion.totals.sum() > 0
    assert_same_on_all_ranks(state)
    assert_ranks_saw_different_images(model)
    finish(f'{len(state)} state tensors equal on both ranks', 'CLDA_DDP_STATE_OK')


if __name__ == '__main__':
    main()
