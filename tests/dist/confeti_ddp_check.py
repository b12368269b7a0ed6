"""Run by tests/test_confeti.py under torchrun (2 CPU processes, gloo).

Three CONFETI stage-1 iterations under DDP, each rank with its own images and its own initial
weights (as ``diff_rank_seed``): the CUT networks are outside the DDP reducer, broadcast from rank 0
by the wrapper and stepped on gradients averaged over the ranks, so afterwards every rank holds the
same student parameters (with φ), teacher, generator, discriminator, patch MLPs, optimiser states and
prototypes (updated from the global batch).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from rank_checks import (assert_ranks_saw_different_images,  # noqa: E402
                         assert_same_on_all_ranks, ddp_iterations, finish, init_ranks)
from test_confeti import build_confeti, optim  # noqa: E402
from test_dacs import paired_batch  # noqa: E402


def main():
    rank = init_ranks()
    torch.manual_seed(rank)  # different initial weights: the wrapper must broadcast rank 0's
    model = build_confeti()
    model.teacher.steps.fill_(5)  # every loss active
    ow = optim(model)
    batches = (paired_batch(seed=10 * it + rank) for it in range(3))
    for _, log in ddp_iterations(model, batches, find_unused_parameters=True, optim_wrapper=ow):
        assert float(log['cut.loss_sc']) > 0 and 'tgt.loss_pcl' in log
    # everything but the student's BN statistics (each rank's own batches, as in every DDP run)
    state = {f'student.{n}': p for n, p in model.student.named_parameters()}
    state.update({k: v for k, v in model.state_dict().items()
                  if k.startswith(('teacher.', 'generator.', 'discriminator.', 'patch_mlp.',
                                   'prototypes.'))})
    assert any(k.startswith('generator.') for k in state) and 'prototypes.prototypes' in state
    for name, wrapper in ow.items():  # Adam / SGD moments
        for i, s in enumerate(wrapper.optimizer.state.values()):
            state.update({f'{name}.optim.{i}.{k}': v for k, v in s.items()
                          if torch.is_tensor(v)})
    assert_same_on_all_ranks(state)
    assert_ranks_saw_different_images(model)
    finish(f'{len(state)} state tensors equal on both ranks', 'CONFETI_DDP_STATE_OK')


if __name__ == '__main__':
    main()
