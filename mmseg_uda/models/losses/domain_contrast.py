import torch
import torch.nn as nn
from mmseg.registry import MODELS

from ..utils.memory_bank import ClassMemoryBank
from ..utils.precision import upcast
from ..utils.prototypes import class_prototypes
from ..utils.sampling import labels_to_grid, sample_per_class
from .contrastive import supervised_info_nce


@MODELS.register_module()
class DomainContrast(nn.Module):
    """CLDA's in-domain and cross-domain contrast with per-class memories (Zhang et al.,
    Eq. 1-7, §5.4). Used by :class:`CLDA` and, as an add-on, by :class:`DACS` (``clda_dacs``).

    Target terms: K anchors per class of the target pseudo-labels against the target keys, i.e.
    this batch's Eq. 2–3 prototypes (confident pixels weighted by ω) and the prototype memory →
    L_in_tgt. Source terms: K anchors per class of the source labels against the source keys
    (pixel memory, this batch's prototypes, prototype memory) → L_in_src, and against the target
    prototype memory → L_cross (Eq. 5–6). All keys are detached; every term is Eq. 1
    (:func:`supervised_info_nce`), scaled by ``weight`` (α of Eq. 7).

    The terms leave the memories unchanged and return what to enqueue (this batch's prototypes of
    both domains and ``enqueue_per_class`` source anchors per class, §3.4); the segmentor passes it
    to :meth:`update_memories` after its backward passes. CLDA's L_cross reads the target
    prototype memory with this batch's target prototypes in it (``target_update``).

    Args:
        num_classes (int), dim (int): classes and embedding width.
        weight (float): α (0.1). tau (float): τ (0.07).
        in_domain, cross_domain (bool): ablation switches of L_in and L_cross.
        anchors_per_class (int): K (1000). memory_size (int): per-class capacity (1000).
        enqueue_per_class (int): source pixels enqueued per class and step (unspecified; 100).
        label_min_ratio (float): purity a feature cell's majority label needs (0.75).
        ignore_index (int): the ignore label.
    """

    def __init__(self, num_classes, dim=128, weight=0.1, tau=0.07, in_domain=True,
                 cross_domain=True, anchors_per_class=1000, memory_size=1000,
                 enqueue_per_class=100, label_min_ratio=0.75, ignore_index=255):
        super().__init__()
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.weight, self.tau = weight, tau
        self.in_domain, self.cross_domain = in_domain, cross_domain
        self.anchors_per_class, self.enqueue_per_class = anchors_per_class, enqueue_per_class
        self.label_min_ratio = label_min_ratio
        self.source_pixels = ClassMemoryBank(num_classes, memory_size, dim)
        self.source_protos = ClassMemoryBank(num_classes, memory_size, dim)
        self.target_protos = ClassMemoryBank(num_classes, memory_size, dim)

    @classmethod
    def for_student(cls, student, **kwargs):
        """Built for a student segmentor: its classes and ignore label, its projection width."""
        head = student.decode_head
        return cls(head.num_classes, student.projection_head.out_channels,
                   ignore_index=head.ignore_index, **kwargs)

    @property
    def enabled(self):
        return self.weight > 0 and (self.in_domain or self.cross_domain)

    def cells(self, emb, *labels, weight=None):
        """Flatten embeddings (B, D, h, w) to rows, with each (B, H, W) label map on the feature
        grid (majority label of a cell if it covers ``label_min_ratio`` of it, spec §9.2) and the
        (B, 1, H, W) weight map averaged over the same cells (:func:`labels_to_grid`, the
        network's geometry at any crop size)."""
        h, w = emb.shape[2:]
        # float32 rows under AMP: one cast, so the terms' gradients add up in float32
        rows = upcast(emb).permute(0, 2, 3, 1).reshape(-1, emb.shape[1])
        out = [rows]
        for lab in labels:
            out.append(labels_to_grid(lab, (h, w), 'ratio', self.label_min_ratio,
                                      self.num_classes, self.ignore_index).flatten())
        if weight is not None:
            out.append(labels_to_grid(upcast(weight), (h, w), 'mean').flatten())
        return out

    def anchors(self, emb, labels):
        idx = sample_per_class(labels, self.anchors_per_class, self.num_classes)
        return emb[idx], labels[idx]

    def target_terms(self, emb, pseudo, confident_label, omega):
        """L_in_tgt = L_ctr(t, t⁺) (Eq. 5); enqueues this batch's target prototypes (Eq. 2–3).

        Args:
            emb (Tensor): student target embeddings (B, D, h, w), L2-normalised.
            pseudo (Tensor): target anchor labels (B, H, W), ignore where unlabelled.
            confident_label (Tensor): labels of the confident pixels only (B, H, W): F_c of Eq. 3.
            omega (Tensor): the teacher's confidence (B, 1, H, W), the ω of Eq. 2.

        Returns:
            tuple[dict, dict]: the losses, and what to enqueue (:meth:`update_memories`).
        """
        c = self.num_classes
        rows, y, y_conf, w = self.cells(emb, pseudo, confident_label, weight=omega)
        proto, has = class_prototypes(rows.detach(), y_conf, c, weights=w)
        classes = torch.arange(c, device=rows.device)
        losses = {}
        if self.in_domain:
            mem, mem_y = self.target_protos.get()
            anc, anc_y = self.anchors(rows, y)
            losses['loss_in_tgt'] = self.weight * supervised_info_nce(
                anc, anc_y, torch.cat([proto[has], mem]), torch.cat([classes[has], mem_y]),
                self.tau)
        return losses, dict(target_protos=(proto[has], classes[has]))

    def source_terms(self, emb, labels, target_update=None):
        """L_in_src = L_ctr(s, s⁺) and L_cross = L_ctr(s, t⁺) (Eq. 5–6).

        Args:
            emb (Tensor): student source embeddings (B, D, h, w), L2-normalised.
            labels (Tensor): source labels (B, H, W).
            target_update (dict | None): what :meth:`target_terms` returned to enqueue this
                iteration; L_cross reads the target prototype memory as it will be once that is
                enqueued. None: the memory as it is.

        Returns:
            tuple[dict, dict]: the losses, and what to enqueue (:meth:`update_memories`).
        """
        c = self.num_classes
        rows, y = self.cells(emb, labels)
        proto, has = class_prototypes(rows.detach(), y, c)
        classes = torch.arange(c, device=rows.device)
        anc, anc_y = self.anchors(rows, y)
        losses = {}
        if self.in_domain:
            pix, pix_y = self.source_pixels.get()
            mem, mem_y = self.source_protos.get()
            losses['loss_in_src'] = self.weight * supervised_info_nce(
                anc, anc_y, torch.cat([pix, proto[has], mem]),
                torch.cat([pix_y, classes[has], mem_y]), self.tau)
        if self.cross_domain:
            mem, mem_y = self.target_protos.get((target_update or {}).get('target_protos'))
            losses['loss_cross'] = self.weight * supervised_info_nce(anc, anc_y, mem, mem_y,
                                                                     self.tau)
        keep = sample_per_class(anc_y, self.enqueue_per_class, c)
        return losses, dict(source_pixels=(anc[keep].detach(), anc_y[keep]),
                            source_protos=(proto[has], classes[has]))

    @torch.no_grad()
    def update_memories(self, *updates):
        """Enqueue what :meth:`target_terms` and :meth:`source_terms` returned (CLDA §5.4).

        Called on every rank once the iteration's losses are back-propagated. Prototypes are
        global already (summed over ranks); the source pixels of all ranks are gathered.
        """
        merged = {k: v for update in updates for k, v in update.items()}
        for name in ('target_protos', 'source_pixels', 'source_protos'):  # a fixed order for DDP
            if name in merged:
                getattr(self, name).push(*merged[name],
                                         same_on_all_ranks=name != 'source_pixels')
