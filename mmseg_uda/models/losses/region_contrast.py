import torch
from torch import nn

from ..utils.global_batch import global_mean, rand_images
from ..utils.memory_bank import BatchMemory
from ..utils.precision import upcast
from .contrastive import negative_logsumexp

NORMALIZE = ('square', 'anchors')


class RegionContrast(nn.Module):
    """RCCR's region-wise contrastive loss (Eq. 4–8) with its sampling strategies (§3.2.4) and
    memory bank (§3.2.5).

    For image b, every cell (i, j) of the pasted square (Φ, Eq. 7) whose teacher confidence exceeds
    δ (positive sampling, PS) is an anchor E_cut(i, j), with the one positive Ê_t(i, j):

        ℓ(i, j) = −log( e^{s⁺/τ} / (e^{s⁺/τ} + Δ) ),  s⁺ = sim(E_cut(i, j), Ê_t(i, j))      (Eq. 5)
        Δ = Σ_{(k,l)≠(i,j)} e^{sim(E_cut(i,j), Ê_t(k,l))/τ} + e^{sim(E_cut(i,j), E_cut(k,l))/τ}  (Eq. 6, 8)
        L_cont^b = (1/s²) Σ_{(i,j)} Φ^{i,j} ℓ(i, j)                                          (Eq. 4)

    and L_cont is the mean over images. The negatives of Δ are the 2hw − 2 other cells of both maps,
    of which a random half is kept per image (NS(R)); keys with the anchor's pseudo-label are
    dropped (NS(C)); the keys of the last ``memory_batches`` iterations join as further negatives
    (MB). Embeddings must be L2-normalised (sim = cosine). Similarities are float32 and computed
    in key chunks (:func:`negative_logsumexp`). After the loss, this iteration's kept in-image keys
    (detached, with labels) are pushed to the memory.

    Args:
        dim (int): embedding dimension (128).
        tau (float): temperature τ (0.1).
        confidence (float | None): δ of PS (0.75; kept when conf > δ). None: PS off.
        random_half (bool): NS(R).
        class_aware (bool): NS(C).
        memory_batches (int): iterations kept in the memory (3); 0: MB off.
        normalize (str): ``'square'``: 1/s² as Eq. 4 prints, also for cells PS removed;
            ``'anchors'``: 1/#anchors (spec B6).
        detach_negatives (bool): the E_cut negatives without gradient (Eq. 6 keeps it; spec B10).
        drop_ignore_negatives (bool): drop keys labelled ``ignore_index`` (spec §9.5; literal: keep).
        ignore_index (int): the ignore label.
        chunk_size (int): keys per similarity chunk.
    """

    def __init__(self, dim=128, tau=0.1, confidence=0.75, random_half=True, class_aware=True,
                 memory_batches=3, normalize='square', detach_negatives=False,
                 drop_ignore_negatives=False, ignore_index=255, chunk_size=4096):
        super().__init__()
        if normalize not in NORMALIZE:
            raise ValueError(f'RegionContrast: normalize must be one of {NORMALIZE}, '
                             f'got {normalize!r}')
        if tau <= 0:
            raise ValueError(f'RegionContrast: tau must be > 0, got {tau}')
        self.tau, self.confidence = tau, confidence
        self.random_half, self.class_aware = random_half, class_aware
        self.normalize, self.detach_negatives = normalize, detach_negatives
        self.drop_ignore_negatives, self.ignore_index = drop_ignore_negatives, ignore_index
        self.chunk_size = chunk_size
        self.memory = BatchMemory(memory_batches, dim) if memory_batches > 0 else None

    def anchor_mask(self, square, conf):
        """The anchors: cells of the square (Φ, Eq. 7) whose teacher confidence exceeds δ (PS)."""
        return square if self.confidence is None else square & (conf > self.confidence)

    def forward(self, e_cut, e_t, square, conf, label_t, label_cut):
        """L_cont of Eq. 4 (mean over images).

        Args:
            e_cut (Tensor): (B, D, h, w) student embeddings of the CutMix image (with gradient).
            e_t (Tensor): (B, D, h, w) teacher embeddings of the clean target image.
            square (Tensor): (B, h, w) bool, the pasted square on the grid (Φ of Eq. 7).
            conf (Tensor): (B, h, w) teacher confidence on the target.
            label_t (Tensor): (B, h, w) teacher pseudo-labels ŷ_t on the grid.
            label_cut (Tensor): (B, h, w) labels of the CutMix image on the grid (ŷ_t inside the
                square, the source label outside).
        """
        b = e_cut.shape[0]
        queries = upcast(e_cut).flatten(2).transpose(1, 2)  # (B, P, D), float32 under AMP too
        targets = upcast(e_t.detach()).flatten(2).transpose(1, 2)
        num_cells = queries.shape[1]
        cells = torch.arange(num_cells, device=e_cut.device)
        anchors = self.anchor_mask(square, conf).flatten(1)
        label_t, label_cut = label_t.flatten(1).long(), label_cut.flatten(1).long()
        memory = self.memory.get() if self.memory is not None else (
            queries.new_zeros(0, queries.shape[2]), label_t.new_zeros(0))
        losses, kept = [], []
        halves = rand_images(b, 2 * num_cells).argsort(1)[:, num_cells:].to(e_cut.device)
        for i in range(b):
            keys = torch.cat([targets[i], queries[i].detach() if self.detach_negatives
                              else queries[i]])
            key_labels = torch.cat([label_t[i], label_cut[i]])
            key_cells = torch.cat([cells, cells])
            keep = torch.ones_like(key_labels, dtype=torch.bool)
            if self.random_half:  # NS(R): one random half of the 2hw candidates per image
                keep[halves[i]] = False
            if self.drop_ignore_negatives:
                keep &= key_labels != self.ignore_index
            keys, key_labels, key_cells = keys[keep], key_labels[keep], key_cells[keep]
            kept.append((keys.detach(), key_labels))
            keys = torch.cat([keys, memory[0]])
            key_labels = torch.cat([key_labels, memory[1]])
            key_cells = torch.cat([key_cells, key_cells.new_full(memory[1].shape, -1)])
            idx = anchors[i].nonzero()[:, 0]
            exclude = [(idx, key_cells)]  # Ω (Eq. 8): the anchor's own cell in both maps
            if self.class_aware:  # NS(C)
                exclude.append((label_t[i, idx], key_labels))
            a = queries[i, idx]
            pos = (a * targets[i, idx]).sum(1) / self.tau
            neg = negative_logsumexp(a, keys, self.tau, exclude, self.chunk_size)
            nll = torch.logaddexp(pos, neg) - pos  # Eq. 5
            n = square[i].sum() if self.normalize == 'square' else idx.numel()
            losses.append(nll.sum() / max(int(n), 1))
        if self.memory is not None:
            self.memory.push(torch.cat([k for k, _ in kept]), torch.cat([l for _, l in kept]))
        return global_mean(torch.stack(losses).sum(), b)  # mean over the global batch
