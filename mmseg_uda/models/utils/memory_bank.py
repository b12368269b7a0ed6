import torch
from torch import nn

from .dist import gather_rows


class ClassMemoryBank(nn.Module):
    """Per-class FIFO memories of the ``size`` most recent keys (MoCo-style memory, CLDA §5.4).

    The state (keys, write pointers, fill counts) is in buffers, so checkpoints carry it and a
    resumed run continues with the same memory. :meth:`push` gathers the keys of every rank first,
    so all ranks hold the same memory after each update.

    Args:
        num_classes (int): number of classes C.
        size (int): capacity per class (CLDA: 1000).
        dim (int): key dimension D.
    """

    def __init__(self, num_classes, size, dim):
        super().__init__()
        if size <= 0 or dim <= 0 or num_classes <= 0:
            raise ValueError(f'ClassMemoryBank: num_classes, size and dim must be > 0, got '
                             f'{num_classes}, {size}, {dim}')
        self.num_classes, self.size, self.dim = num_classes, size, dim
        self.register_buffer('keys', torch.zeros(num_classes, size, dim))
        self.register_buffer('ptr', torch.zeros(num_classes, dtype=torch.long))
        self.register_buffer('count', torch.zeros(num_classes, dtype=torch.long))

    @torch.no_grad()
    def push(self, keys, labels, same_on_all_ranks=False):
        """Enqueue keys (N, D) of classes ``labels`` (N,) from all ranks; the oldest go first.

        Within a class, later rows are newer; when more than ``size`` arrive, the last ``size`` stay.
        Labels outside [0, C) (e.g. the ignore index) are dropped. ``same_on_all_ranks``: the keys
        are already global (e.g. prototypes summed over ranks) and are pushed once, not gathered.
        """
        keys, labels = self._incoming(keys, labels)
        if not same_on_all_ranks:
            keys, labels = gather_rows(keys), gather_rows(labels)
        self._write(self.keys, self.ptr, self.count, keys, labels)

    @torch.no_grad()
    def get(self, pending=None):
        """All stored keys (M, D) and their classes (M,).

        ``pending``: (keys, labels), global already (as :meth:`push` takes them with
        ``same_on_all_ranks=True``): the memory as it will be once they are pushed; it is left
        unchanged.
        """
        keys, count = self.keys, self.count
        if pending is not None:
            keys, ptr, count = self.keys.clone(), self.ptr.clone(), self.count.clone()
            self._write(keys, ptr, count, *self._incoming(*pending))
        valid = torch.arange(self.size, device=keys.device)[None] < count[:, None]
        labels = torch.arange(self.num_classes, device=keys.device)[:, None].expand_as(valid)
        return keys[valid], labels[valid]

    def _incoming(self, keys, labels):
        """Detached keys in the memory's dtype and their labels, rows of classes in [0, C) only."""
        if keys.shape[-1] != self.dim:
            raise ValueError(f'ClassMemoryBank: keys of dim {keys.shape[-1]}, expected {self.dim}')
        keep = (labels >= 0) & (labels < self.num_classes)
        return keys.detach()[keep].to(self.keys.dtype), labels[keep].long()

    def _write(self, memory, ptr, count, keys, labels):
        """FIFO-write ``keys`` of ``labels`` into ``memory`` (C, size, D), ``ptr`` and ``count``,
        in place."""
        if labels.numel() == 0:
            return
        order = torch.sort(labels, stable=True).indices  # group by class, arrival order kept
        keys, labels = keys[order], labels[order]
        n = torch.bincount(labels, minlength=self.num_classes)
        first = torch.cumsum(n, 0) - n
        rank = torch.arange(labels.numel(), device=labels.device) - first[labels]  # 0..n_c-1
        newest = rank >= n[labels] - self.size  # only the last `size` of each class are written
        slot = (ptr[labels] + rank - (n[labels] - self.size).clamp(min=0)) % self.size
        memory[labels[newest], slot[newest]] = keys[newest]
        ptr.copy_((ptr + n.clamp(max=self.size)) % self.size)
        count.copy_((count + n).clamp(max=self.size))


class BatchMemory(nn.Module):
    """FIFO memory of the keys of the last ``batches`` pushes (RCCR §3.2.5: the last 3 batches).

    Each :meth:`push` (one per iteration) stores the keys and labels of all ranks in one slot and
    evicts the oldest slot. Slots are as wide as the largest push seen (shorter pushes are padded
    with label -1, never returned); the buffers grow to that width on the first push and are resized
    to a checkpoint's on load, so checkpoints carry the memory and resume with it.

    Args:
        batches (int): number of pushes kept (n ≥ 1).
        dim (int): key dimension D.
    """

    def __init__(self, batches, dim):
        super().__init__()
        if batches <= 0 or dim <= 0:
            raise ValueError(f'BatchMemory: batches and dim must be > 0, got {batches}, {dim}')
        self.batches, self.dim = batches, dim
        self.register_buffer('keys', torch.zeros(batches, 0, dim))
        self.register_buffer('labels', torch.full((batches, 0), -1, dtype=torch.long))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def push(self, keys, labels):
        """Store keys (N, D) with labels (N,) (any value ≥ 0) of every rank as the newest slot."""
        if keys.shape[-1] != self.dim:
            raise ValueError(f'BatchMemory: keys of dim {keys.shape[-1]}, expected {self.dim}')
        keys = gather_rows(keys.detach().to(self.keys.dtype))
        labels = gather_rows(labels.long())
        n = keys.shape[0]
        if n > self.keys.shape[1]:
            self._resize(n)
        slot = int(self.ptr) % self.batches
        self.keys[slot] = 0
        self.labels[slot] = -1
        self.keys[slot, :n] = keys
        self.labels[slot, :n] = labels
        self.ptr += 1

    def get(self):
        """All stored keys (M, D) and their labels (M,)."""
        valid = self.labels >= 0
        return self.keys[valid], self.labels[valid]

    def _resize(self, width):
        keys = self.keys.new_zeros(self.batches, width, self.dim)
        labels = self.labels.new_full((self.batches, width), -1)
        keys[:, :self.keys.shape[1]] = self.keys
        labels[:, :self.labels.shape[1]] = self.labels
        self.keys, self.labels = keys, labels

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        stored = state_dict.get(prefix + 'keys')
        if stored is not None and stored.shape[1] != self.keys.shape[1]:
            self.keys = self.keys.new_zeros(stored.shape)
            self.labels = self.labels.new_full(stored.shape[:2], -1)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
