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
    """Make resumed training draw exactly what the uninterrupted run draws.

    mmengine restores model, optimiser, schedulers and the data order, not the random generators of
    the training process (ClassMix classes, augmentation parameters, dropout masks). This hook
    (1) stores, in each checkpoint, the generators of every rank as they were at the end of the
    last train iteration, (2) restores them right before the first resumed iteration (after the
    loop has rebuilt and advanced its data iterator, which draws a worker seed), and (3) keeps
    validation from consuming training randomness, so a validation at a checkpoint boundary does
    not shift the draws. Exact with ``num_workers >= 1`` (mmengine re-seeds workers, so replaying
    the data order draws nothing from the main generators; with 0 workers the replay does).
    """
    priority = 'LOW'  # after_train_iter before CheckpointHook (VERY_LOW) saves

    def __init__(self):
        self._boundary = None
        self._pending = None
        self._before_val = None

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        # gathered here, on every rank: checkpoints may be written by rank 0 alone (best checkpoint)
        state = _get_state()
        self._boundary = all_gather_object(state) if is_distributed() else [state]

    def before_save_checkpoint(self, runner, checkpoint):
        states = self._boundary or [_get_state()]
        checkpoint.setdefault('meta', {})['random_state'] = states

    def after_load_checkpoint(self, runner, checkpoint):
        states = checkpoint.get('meta', {}).get('random_state')
        if states and runner._resume and get_rank() < len(states):
            self._pending = states[get_rank()]

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self._pending is not None:
            _set_state(self._pending)
            self._pending = None

    def before_val_epoch(self, runner):
        self._before_val = _get_state()

    def after_val_epoch(self, runner, metrics=None):
        if self._before_val is not None:
            _set_state(self._before_val)
            self._before_val = None
