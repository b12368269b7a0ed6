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
        if keys.shape[-1] != self.dim:
            raise ValueError(f'ClassMemoryBank: keys of dim {keys.shape[-1]}, expected {self.dim}')
        keep = (labels >= 0) & (labels < self.num_classes)
        keys, labels = keys.detach()[keep].to(self.keys.dtype), labels[keep].long()
        if not same_on_all_ranks:
            keys, labels = gather_rows(keys), gather_rows(labels)
        if labels.numel() == 0:
            return
        order = torch.sort(labels, stable=True).indices  # group by class, arrival order kept
        keys, labels = keys[order], labels[order]
        n = torch.bincount(labels, minlength=self.num_classes)
        first = torch.cumsum(n, 0) - n
        rank = torch.arange(labels.numel(), device=labels.device) - first[labels]  # 0..n_c-1
        newest = rank >= n[labels] - self.size  # only the last `size` of each class are written
        slot = (self.ptr[labels] + rank - (n[labels] - self.size).clamp(min=0)) % self.size
        self.keys[labels[newest], slot[newest]] = keys[newest]
        self.ptr.copy_((self.ptr + n.clamp(max=self.size)) % self.size)
        self.count.copy_((self.count + n).clamp(max=self.size))

    def get(self):
        """All stored keys (M, D) and their classes (M,)."""
        valid = torch.arange(self.size, device=self.keys.device)[None] < self.count[:, None]
        labels = torch.arange(self.num_classes, device=self.keys.device)[:, None].expand_as(valid)
        return self.keys[valid], labels[valid]
