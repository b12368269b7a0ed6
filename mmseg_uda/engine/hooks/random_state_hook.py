import random

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, is_distributed
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def _get_state():
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def _set_state(state):
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random generators of every rank in checkpoints and restore them on resume.

    With it, a resumed run draws the same ClassMix classes, augmentation parameters and dropout masks
    as the uninterrupted run (mmengine restores model, optimiser, schedulers and the data order, not
    the generators of the training process). Dataloader workers are re-seeded by mmengine.
    """
    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint):
        states = all_gather_object(_get_state()) if is_distributed() else [_get_state()]
        checkpoint.setdefault('meta', {})['random_state'] = states

    def after_load_checkpoint(self, runner, checkpoint):
        states = checkpoint.get('meta', {}).get('random_state')
        if not states or not runner._resume:
            return
        rank = get_rank()
        if rank < len(states):
            self._pending = states[rank]

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self._pending is not None:
            _set_state(self._pending)
            self._pending = None
