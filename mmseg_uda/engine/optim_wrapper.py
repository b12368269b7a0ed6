import copy
import logging
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import (DefaultOptimWrapperConstructor, OptimWrapper,
                            OptimWrapperDict)
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
from mmengine.runner.amp import autocast


_BF16_FLAGS = ('avx512_bf16', 'amx_bf16', 'bf16')  # x86 (AVX512-BF16, AMX), aarch64 (BF16)
_warned_emulated_bf16 = False


def native_cpu_bf16(cpuinfo='/proc/cpuinfo'):
    """Whether this CPU computes bfloat16 natively (its ``/proc/cpuinfo`` flags); None where
    unknown (no such file, e.g. macOS)."""
    try:
        with open(cpuinfo) as f:
            text = f.read()
    except OSError:
        return None
    flags = {flag for line in text.splitlines()
             if line.split(':')[0].strip() in ('flags', 'Features') for flag in line.split()}
    return bool(flags & set(_BF16_FLAGS))


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed precision on CPU: bfloat16 autocast, no loss scaling (bf16 has fp32's range).

    mmengine's ``AmpOptimWrapper`` refuses to run without a GPU; ``tools/train.py --amp`` selects this
    wrapper when CUDA is unavailable, so AMP code paths are exercised on CPU too.
    """

    def __init__(self, dtype='bfloat16', **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        global _warned_emulated_bf16
        if self.cast_dtype == torch.bfloat16 and native_cpu_bf16() is False \
                and not _warned_emulated_bf16:
            _warned_emulated_bf16 = True
            print_log('--amp on a CPU without native bfloat16 instructions (no avx512_bf16 / '
                      'amx_bf16 / bf16 flag in /proc/cpuinfo): bfloat16 is emulated, up to ~30x '
                      'slower than float32; train without --amp on this machine',
                      logger='current', level=logging.WARNING)

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


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """One optimiser wrapper per child module, as an ``OptimWrapperDict`` keyed by child name
    (CONFETI spec §7: separate optimisers for 𝒢, ℰ and H_l; mmengine 0.10 has none).

    ``optim_wrapper=dict(constructor='MultiOptimWrapperConstructor', generator=dict(
    optimizer=...), ...)``: each dict entry is a whole optim wrapper config (its own
    ``paramwise_cfg`` and ``constructor`` allowed) built on ``model.<name>`` by that constructor
    (default ``DefaultOptimWrapperConstructor``). Non-dict entries (e.g. ``type='AmpOptimWrapper'``
    set by ``tools/train.py --amp``) are defaults of every child config. DDP wrappers around the
    model are unwrapped.

    Args:
        optim_wrapper_cfg (dict): child name → optim wrapper config, plus shared defaults.
        paramwise_cfg (dict, optional): must be None; give it per child. Default: None.
    """

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        if paramwise_cfg is not None:
            raise ValueError('MultiOptimWrapperConstructor: set paramwise_cfg inside each child '
                             f'config, got a top-level {paramwise_cfg!r}')
        self.children = {k: v for k, v in optim_wrapper_cfg.items() if isinstance(v, dict)}
        self.shared = {k: v for k, v in optim_wrapper_cfg.items() if not isinstance(v, dict)}
        if not self.children:
            raise ValueError('MultiOptimWrapperConstructor: optim_wrapper must map child names to '
                             f'optim wrapper configs, got {optim_wrapper_cfg!r}')

    def __call__(self, model):
        module = model.module if is_model_wrapper(model) else model
        wrappers = {}
        for name, cfg in self.children.items():
            child = getattr(module, name, None)
            if not isinstance(child, torch.nn.Module):
                raise KeyError(f'MultiOptimWrapperConstructor: {type(module).__name__} has no '
                               f'child module {name!r} (optim_wrapper key)')
            cfg = copy.deepcopy({**self.shared, **cfg})
            constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
                type=cfg.pop('constructor', 'DefaultOptimWrapperConstructor'),
                optim_wrapper_cfg=cfg, paramwise_cfg=cfg.pop('paramwise_cfg', None)))
            wrappers[name] = constructor(child)
        return OptimWrapperDict(**wrappers)


def step_with_scaler(optim_wrapper, main):
    """Step ``optim_wrapper`` on gradients back-propagated through ``main``, then zero them.

    Several optimisers fed by the backward passes of one wrapper (CUT's 𝒢 and H_l; CONFETI's
    segmenter, 𝒢, ℰ and H_l) must share its fp16 loss scale: each of the others is unscaled and
    stepped by ``main``'s GradScaler, and ``main``'s own ``step`` (last in the iteration) updates
    the scale once after all of them (torch's recipe for several models, losses and optimisers).
    Without loss scaling (fp32, bf16) this is ``optim_wrapper.step()``.
    """
    scaler = getattr(main, 'loss_scaler', None)
    if optim_wrapper is main or scaler is None:
        optim_wrapper.step()
    else:
        scaler.unscale_(optim_wrapper.optimizer)
        if optim_wrapper.clip_grad_kwargs:
            optim_wrapper._clip_grad()
        scaler.step(optim_wrapper.optimizer)
    optim_wrapper.zero_grad()
