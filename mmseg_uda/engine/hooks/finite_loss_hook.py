import math

import torch
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training at the first NaN/Inf loss, before any hook saves a checkpoint of that iteration.

    Runs after each training iteration with a priority above the logger and ``CheckpointHook``, and
    raises ``RuntimeError`` naming the loss keys, their values and the iteration, so the last
    checkpoint in the work dir (and ``last_checkpoint``) stays the last good state.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if not outputs:
            return
        values, bad = non_finite_losses(outputs)
        if not bad:
            return
        last = runner.message_hub.get_info('last_ckpt')
        raise RuntimeError(
            f'non-finite loss at iteration {runner.iter + 1}: {bad} (all losses: {values}); '
            f'training stopped without saving this iteration; last checkpoint: {last}')


def non_finite_losses(log_vars):
    """The logged losses (keys with ``loss``) as floats, and those of them that are NaN or Inf."""
    values = {k: _as_float(v) for k, v in log_vars.items() if 'loss' in k}
    return values, {k: v for k, v in values.items() if v is not None and not math.isfinite(v)}


def _as_float(value):
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean()) if value.numel() else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
