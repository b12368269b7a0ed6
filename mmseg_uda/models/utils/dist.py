"""Collectives that keep cross-iteration state (memories, prototypes, statistics) equal on all ranks."""
import torch
import torch.distributed as dist
from mmengine.dist import is_distributed


def gather_rows(x):
    """Concatenate the rows of ``x`` (N_r, ...) from every rank, in rank order; N_r may differ.

    Single process: ``x`` itself. Differentiable nowhere (for detached state updates).
    """
    if not is_distributed():
        return x
    n = torch.tensor([x.shape[0]], device=x.device)
    counts = [torch.zeros_like(n) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, n)
    counts = [int(c) for c in counts]
    padded = x.new_zeros((max(counts), *x.shape[1:]))
    padded[:x.shape[0]] = x
    parts = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:c] for p, c in zip(parts, counts)])


def sum_over_ranks(x):
    """All-reduce sum of a tensor (a copy); single process: ``x``."""
    if not is_distributed():
        return x
    x = x.clone()
    dist.all_reduce(x)
    return x
