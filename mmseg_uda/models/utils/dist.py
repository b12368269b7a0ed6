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


@torch.no_grad()
def average_over_ranks_(tensors):
    """Replace each tensor by its mean over ranks, in place (one all-reduce); single process: no-op."""
    tensors = list(tensors)
    if not is_distributed() or not tensors:
        return
    flat = torch.cat([t.reshape(-1).float() for t in tensors])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    for t, part in zip(tensors, flat.split([t.numel() for t in tensors])):
        t.copy_(part.view_as(t))


@torch.no_grad()
def average_gradients_(module):
    """Average the gradients of ``module``'s trainable parameters over ranks, in place (one
    all-reduce; a missing gradient counts as zeros). For networks that a DDP wrapper leaves out
    (``ddp_ignored_modules``, e.g. CONFETI's CUT networks, updated by their own backward passes and
    optimisers): call it before their optimiser step. Single process: no-op."""
    if not is_distributed():
        return
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    average_over_ranks_(p.grad for p in params)
