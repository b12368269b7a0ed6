"""Batch-norm helpers."""
from contextlib import contextmanager

from torch.nn.modules.batchnorm import _BatchNorm


@contextmanager
def frozen_bn_statistics(module):
    """Inside the block, train-mode BN layers of ``module`` normalise with the batch statistics
    but leave their running statistics unchanged (momentum 0; restored on exit).

    For an extra teacher pass whose images must not enter the statistics the teacher predicts
    with, e.g. T2S-DA's source keys next to DACS's target pass.
    """
    layers = [m for m in module.modules()
              if isinstance(m, _BatchNorm) and m.training and m.track_running_stats]
    saved = [(m.momentum, m.num_batches_tracked.clone()) for m in layers]
    for m in layers:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, tracked) in zip(layers, saved):
            m.momentum = momentum
            m.num_batches_tracked.copy_(tracked)
