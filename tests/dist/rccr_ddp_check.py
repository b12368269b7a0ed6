"""Run by tests/test_rccr.py under torchrun (2 CPU processes, gloo).

Three RCCR iterations under DDP (find_unused_parameters: the source pass leaves the projector
out, the CutMix pass the decode head), each rank with its own images: afterwards every rank holds
the same student, the same teacher (parameters, momentum projector and BN buffers, averaged over
ranks at each update) and the same memory of the last batches of both ranks, bit for bit.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from rank_checks import (assert_ranks_saw_different_images,  # noqa: E402
                         assert_same_on_all_ranks, ddp_iterations, finish, init_ranks)
from test_dacs import paired_batch  # noqa: E402
from test_rccr import build_rccr  # noqa: E402


def main():
    rank = init_ranks()
    torch.manual_seed(0)  # same initial weights on both ranks
    model = build_rccr()
    batches = (paired_batch(seed=10 * it + rank) for it in range(3))
    for _, log in ddp_iterations(model, batches, find_unused_parameters=True):
        assert float(log['cut.rwc']) > 0
    state = {f'student.{n}': p for n, p in model.student.named_parameters()}
    state.update({n: t for n, t in model.state_dict().items()
                  if n.startswith(('teacher.', 'region_contrast.'))})
    assert int(model.region_contrast.memory.ptr) == 3
    assert model.region_contrast.memory.get()[0].shape[0] == 3 * 2 * 2 * 16  # 3 x (2 ranks x 2)
    assert any('projection_head' in n for n in state if n.startswith('teacher.'))
    assert_same_on_all_ranks(state)
    assert_ranks_saw_different_images(model)
    finish(f'{len(state)} state tensors equal on both ranks', 'RCCR_DDP_STATE_OK')


if __name__ == '__main__':
    main()
