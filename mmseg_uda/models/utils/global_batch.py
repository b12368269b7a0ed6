"""Global-batch semantics for DDP: random draws and loss normalisers that do not depend on how the
global batch is split over ranks.

Inside :func:`global_batch` (entered by ``UDABaseSegmentor.train_step`` for every iteration) each
rank knows its slice ``[offset, offset + local)`` of the global batch and holds a generator seeded
identically on every rank. Every random choice of a UDA iteration is drawn for the *global* batch
from that generator (or, on the device that uses it, from one seeded by it) and sliced
(:func:`rand_images`, :func:`kornia_params`, :func:`select_global`), and every mean over pixels or
anchors is divided by the global count (:func:`global_mean`). Then N processes with B images each compute exactly what one process
computes on the N·B images: DDP's gradient average of the per-rank losses is the gradient of the
single-process loss, and every state update (memories, prototypes, statistics) sees the same rows.
Not covered: BatchNorm statistics (per device by definition; SyncBN on GPUs) and dropout masks.

Outside the context (unit tests, single calls) every helper falls back to this process's default
generator and local counts, i.e. the behaviour of a single process.
"""
import threading
from contextlib import contextmanager

import torch
import torch.distributed as dist
from mmengine.dist import is_distributed

from .dist import gather_rows, gather_rows_with_grad, rank_sizes

_STATE = threading.local()
_MIX = 0x9E3779B97F4A7C15  # odd 64-bit constant (golden ratio): decorrelates seeds of nearby steps


class _Batch:
    def __init__(self, local, offset, total, generator):
        self.local, self.offset, self.total, self.generator = local, offset, total, generator

    @property
    def rows(self):
        return slice(self.offset, self.offset + self.local)


def current():
    """The global batch of the running iteration, or None outside :func:`global_batch`."""
    return getattr(_STATE, 'batch', None)


def world_size():
    """W inside a distributed iteration, else 1."""
    return dist.get_world_size() if current() is not None and is_distributed() else 1


def _comm_device():
    """Where collectives of small bookkeeping tensors run: the current GPU for NCCL, else CPU."""
    if dist.get_backend() == 'nccl':
        return torch.device('cuda', torch.cuda.current_device())
    return torch.device('cpu')


def iteration_seed(base, step):
    """Seed of iteration ``step`` of a run seeded ``base`` (same on every rank)."""
    return (int(base) * _MIX + int(step)) % (2 ** 63)


@contextmanager
def global_batch(local_size, seed):
    """Run one iteration with this rank's ``local_size`` images as its slice of the global batch
    (ranks in order; local sizes may differ) and a shared generator seeded with ``seed``."""
    sizes = rank_sizes(local_size, _comm_device()) if is_distributed() else [int(local_size)]
    rank = dist.get_rank() if is_distributed() else 0
    previous = current()
    _STATE.batch = _Batch(int(local_size), sum(sizes[:rank]), sum(sizes),
                          torch.Generator().manual_seed(int(seed)))
    try:
        yield _STATE.batch
    finally:
        _STATE.batch = previous


def shared_seed():
    """rank 0's ``torch.initial_seed()`` on every rank (the run's seed; ranks may add their rank)."""
    seed = torch.tensor([torch.initial_seed() % (2 ** 62)], dtype=torch.long)
    if is_distributed():
        seed = seed.to(_comm_device())
        dist.broadcast(seed, src=0)
    return int(seed)


# -- random draws ------------------------------------------------------------------------------
def _shared_generator(device):
    """A generator on ``device`` seeded from the shared one (the same on every rank): draws are
    made where they are used, e.g. millions of pixel keys on the GPU, not on the host."""
    device = torch.device('cpu' if device is None else device)
    seed = int(torch.randint(2 ** 62, (1, ), generator=current().generator))
    return torch.Generator(device=device).manual_seed(seed), device


def rand_images(local, *shape, device=None):
    """U(0, 1) draws (local, *shape), one row per image: this rank's rows of a draw for the global
    batch (same values as one process drawing for all images). Outside an iteration: torch.rand."""
    batch = current()
    if batch is None:
        return torch.rand((local, *shape), device=device)
    _check_local(batch, local)
    g, device = _shared_generator(device)
    return torch.rand((batch.total, *shape), generator=g, device=device)[batch.rows]


def global_rows(local, device=None):
    """Positions of this rank's ``local`` images in the global batch (0 .. local - 1 outside an
    iteration), for choices by position, e.g. every other image of the global batch."""
    batch = current()
    if batch is None:
        return torch.arange(local, device=device)
    _check_local(batch, local)
    return torch.arange(batch.offset, batch.offset + local, device=device)


def rand_shared(*shape, device=None):
    """U(0, 1) draws that are the same on every rank (e.g. one decision for the whole batch)."""
    if current() is None:
        return torch.rand(shape, device=device)
    g, device = _shared_generator(device)
    return torch.rand(shape, generator=g, device=device)


def rand_rows(n, device=None):
    """U(0, 1) keys for this rank's ``n`` rows (e.g. pixels of its images): its part of one draw
    for the rows of all ranks in rank order. Outside an iteration: torch.rand."""
    if current() is None:
        return torch.rand(n, device=device)
    first, total = row_range(n)
    return rand_shared(total, device=device)[first:first + n]


def randperm_shared(n, device=None):
    """A random permutation of range(n), the same on every rank."""
    if current() is None:
        return torch.randperm(n, device=device)
    g, device = _shared_generator(device)
    return torch.randperm(n, generator=g, device=device)


@contextmanager
def shared_torch_rng():
    """Seed torch's default generator from the shared one for the enclosed draws (for libraries
    such as kornia that draw from it), and restore it afterwards. No-op outside an iteration."""
    batch = current()
    if batch is None:
        yield
        return
    seed = int(torch.randint(2 ** 62, (1, ), generator=batch.generator))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def kornia_params(aug, shape):
    """Parameters of kornia augmentation ``aug`` for a local batch of ``shape`` (B, C, H, W):
    this rank's part of the parameters drawn for the global batch."""
    batch = current()
    if batch is None:
        return aug.forward_parameters(torch.Size(shape))
    _check_local(batch, shape[0])
    with shared_torch_rng():
        params = aug.forward_parameters(torch.Size((batch.total, *shape[1:])))
    return _slice_params(params, batch.rows, batch.total)


def _slice_params(params, rows, total):
    # kornia keeps per-image factors only for the images it applies to (batch_prob == 1)
    applied = params['batch_prob'] > 0.5
    first, count = int(applied[:rows.start].sum()), int(applied[rows].sum())
    out = {}
    for key, value in params.items():
        if key == 'forward_input_shape':
            value = value.clone()
            value[0] = rows.stop - rows.start
        elif key == 'batch_prob':
            value = value[rows]
        elif torch.is_tensor(value) and value.dim() > 0 and key != 'order':
            if value.shape[0] == int(applied.sum()):
                value = value[first:first + count]
            elif value.shape[0] == total:
                value = value[rows]
        out[key] = value
    return out


def _check_local(batch, local):
    if local != batch.local:
        raise ValueError(f'a per-image draw for {local} images inside an iteration of '
                         f'{batch.local} images on this rank')


# -- counts and means over the global batch -----------------------------------------------------
def sum_global(x):
    """All-reduce sum of a detached tensor (a copy) when inside a distributed iteration."""
    x = x.detach().clone()
    if current() is not None and is_distributed():
        dist.all_reduce(x)
    return x


def global_mean(total, count):
    """Σ / N over the global batch from this rank's sum ``total`` (differentiable) and count.

    Returns ``total · W / N_global`` so that DDP's average of the W ranks' values (and gradients) is
    Σ_all / N_global, the single-process mean; 0 (connected to ``total``) when N_global = 0.
    """
    n = sum_global(torch.as_tensor(count, dtype=torch.float32, device=total.device))
    return total * world_size() / n.clamp(min=1)


def any_global(mask):
    """Logical OR of a bool tensor over ranks (inside a distributed iteration)."""
    return sum_global(mask.to(torch.int32)) > 0


def gather_global(x):
    """Rows of ``x`` from every rank in rank order (not differentiable), inside a distributed
    iteration; else ``x``."""
    return x if current() is None else gather_rows(x)


def row_range(n):
    """(first, total): where this rank's ``n`` rows start in the rows of all ranks (rank order),
    and their total. Outside a distributed iteration: (0, n)."""
    if current() is None or not is_distributed():
        return 0, n
    sizes = rank_sizes(n, _comm_device())
    return sum(sizes[:dist.get_rank()]), sum(sizes)


def gather_global_with_grad(x):
    """:func:`gather_global` through which gradients flow back (:func:`gather_rows_with_grad`), for
    a term every rank evaluates on the whole global batch (e.g. the batch Lovász hinge)."""
    return x if current() is None else gather_rows_with_grad(x)


def select_global(select, *local):
    """Apply a selection rule to the rows of the global batch and return this rank's picks.

    ``local`` are this rank's candidate rows (tensors with the same first dimension, e.g. labels
    and random keys, no gradient). ``select(*gathered)`` returns indices into the gathered rows;
    the result holds, in increasing order, the picks that are this rank's, as indices into its
    rows (so rows gathered over ranks afterwards come in the single-process order). Outside an
    iteration: ``select(*local)`` as returned.
    """
    if current() is None:
        return select(*local)
    if not is_distributed():
        return select(*local).sort().values
    n = local[0].shape[0]
    first, _ = row_range(n)
    return local_rows(select(*(gather_rows(t) for t in local)).sort().values, first, n)


def local_rows(rows, first, n):
    """The indices ``rows`` into the rows of all ranks that fall on this rank's ``n`` rows
    (starting at ``first``, :func:`row_range`), as indices into its rows."""
    return rows[(rows >= first) & (rows < first + n)] - first
