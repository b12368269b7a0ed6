from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS
from mmengine.runner.amp import autocast


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed precision on CPU: bfloat16 autocast, no loss scaling (bf16 has fp32's range).

    mmengine's ``AmpOptimWrapper`` refuses to run without a GPU; ``tools/train.py --amp`` selects this
    wrapper when CUDA is unavailable, so AMP code paths are exercised on CPU too.
    """

    def __init__(self, dtype='bfloat16', **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), autocast(device_type='cpu', dtype=self.cast_dtype):
            yield
