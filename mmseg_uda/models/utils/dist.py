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
    return _gather_padded(x, rank_sizes(x.shape[0], x.device))


def rank_sizes(n, device):
    """The counts ``n`` of every rank, in rank order (one all-gather of a number on ``device``)."""
    t = torch.tensor([n], dtype=torch.long, device=device)
    parts = [torch.zeros_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t)
    return [int(p) for p in parts]


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
    dtype = torch.float32
    for t in tensors:  # float64 state stays float64
        dtype = torch.promote_types(dtype, t.dtype)
    flat = torch.cat([t.reshape(-1).to(dtype) for t in tensors])
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


class _GatherRowsWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.rank, ctx.counts = dist.get_rank(), rank_sizes(x.shape[0], x.device)
        return _gather_padded(x, ctx.counts)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)  # every rank's loss reads every row: sum their gradients
        start = sum(ctx.counts[:ctx.rank])
        return grad[start:start + ctx.counts[ctx.rank]]


def _gather_padded(x, counts):
    padded = x.new_zeros((max(counts), *x.shape[1:]))
    padded[:x.shape[0]] = x
    parts = [torch.empty_like(padded) for _ in counts]
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:c] for p, c in zip(parts, counts)])


def gather_rows_with_grad(x):
    """:func:`gather_rows` through which gradients flow back to each rank's rows: for a loss that
    every rank computes identically over the global batch (not decomposable per image, e.g. the
    batch Lovász hinge). Each rank's rows get the sum of the W ranks' gradients, W times the
    loss's own; DDP's average over the W ranks then gives exactly the single-process gradient.
    Single process: ``x``."""
    if not is_distributed():
        return x
    return _GatherRowsWithGrad.apply(x)
