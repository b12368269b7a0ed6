from contextlib import contextmanager

import torch
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
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


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class UDAOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor applied to what a UDA segmentor trains: its ``student``.

    The EMA teacher and the frozen ImageNet model have no gradients; leaving them out keeps them
    out of the optimiser and avoids one warning per frozen parameter. Other models are unchanged.
    Parameter names lose the ``student.`` prefix (``custom_keys`` such as ``head`` still match).
    """

    def __call__(self, model):
        module = model.module if is_model_wrapper(model) else model
        return super().__call__(getattr(module, 'student', module))
