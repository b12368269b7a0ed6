"""A record, carried by checkpoints, of whether a model's weights were loaded from a checkpoint.

For stages that must start from an earlier stage's weights (CONFETI's frozen generator, SDCA's
adaptation after the source-only warm-up): the model registers a bool buffer with
:func:`add_load_record`, calls :func:`record_load` first thing in its ``_load_from_state_dict``, and
checks the buffer before training. A checkpoint of the model itself (resume) brings its own record.
"""
import torch


def add_load_record(module, name):
    """Register the bool buffer ``name`` of ``module``, False until :func:`record_load` sets it."""
    module.register_buffer(name, torch.zeros((), dtype=torch.bool))


def record_load(module, state_dict, prefix, name, key_prefixes):
    """Set the record ``name`` in ``state_dict`` (as the value to load) when the state dict holds
    weights under any of ``key_prefixes`` (relative to ``module``) but no record of its own: a
    checkpoint of an earlier stage or a plain segmentor, e.g. ``load_from``."""
    key = f'{prefix}{name}'
    wanted = tuple(f'{prefix}{p}' for p in key_prefixes)
    if hasattr(module, name) and key not in state_dict and any(
            k.startswith(wanted) for k in state_dict):
        state_dict[key] = torch.ones((), dtype=torch.bool)
