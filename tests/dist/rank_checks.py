"""Helpers of the torchrun check scripts in this folder (2 CPU processes, gloo)."""
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist


def init_ranks():
    """mmseg's registries, one thread per process and the gloo group; returns this rank."""
    from mmseg.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(1)
    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    return dist.get_rank()


def ddp_iterations(model, batches, find_unused_parameters=False, own_draws=True, lr=0.1,
                   optim_wrapper=None):
    """Train ``model`` (built from one seed, so equal on every rank) under DDP with SGD on this
    rank's ``batches`` (or ``optim_wrapper``, e.g. an ``OptimWrapperDict``); with ``own_draws``
    each rank then draws its own random numbers (mixes, samples, augmentations). Yields (batch,
    log variables) per iteration."""
    from mmengine.optim import OptimWrapper

    from mmseg_uda.engine import DeviceAgnosticDDP
    ddp = DeviceAgnosticDDP(module=model, broadcast_buffers=False,
                            find_unused_parameters=find_unused_parameters)
    if optim_wrapper is None:
        optim_wrapper = OptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=lr))
    if own_draws:
        torch.manual_seed(100 + dist.get_rank())
    for batch in batches:
        yield batch, ddp.train_step(batch, optim_wrapper)


def assert_same_on_all_ranks(state):
    """Every tensor of ``state`` (name -> tensor) is bit-identical on all ranks."""
    for name, value in state.items():
        value = value.detach().float().flatten().contiguous()
        gathered = [torch.zeros_like(value) for _ in range(dist.get_world_size())]
        dist.all_gather(gathered, value)
        assert all(torch.equal(gathered[0], g) for g in gathered[1:]), \
            f'{name} differs between the ranks'


def assert_ranks_saw_different_images(model):
    """The student's first BN running mean differs between ranks (each saw its own images)."""
    mean = next(b for n, b in model.student.named_buffers() if n.endswith('running_mean'))
    gathered = [torch.zeros_like(mean) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, mean.contiguous())
    assert not torch.equal(gathered[0], gathered[1]), 'the ranks did not see different images'


def finish(*lines):
    """Rank 0 prints ``lines`` (the last one is the marker the test looks for), then every rank
    leaves at once: gloo's process-group teardown can hang at exit; all checks are done."""
    if dist.get_rank() == 0:
        print('\n'.join(lines))
    dist.barrier()
    sys.stdout.flush()
    os._exit(0)
