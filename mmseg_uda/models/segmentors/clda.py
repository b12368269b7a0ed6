import logging

import torch
from mmengine.dist import get_world_size
from mmengine.logging import print_log
from mmseg.registry import MODELS

from ..losses import DomainContrast
from ..utils.augment import PhotometricAug
from ..utils.checks import (NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, PROBABILITY, THRESHOLD,
                            check_keys, optional)
from ..utils.geometric import random_affine, warp_images, warp_labels
from ..utils.label_expansion import LabelExpansion
from ..utils.prototypes import class_adaptive_thresholds
from ..utils.sampling import labels_to_grid
from .dacs import DOMAIN_CONTRAST_RULES
from .uda_base import UDABaseSegmentor, pixel_labels


AUGMENT_KEYS = {'scale', 'max_rotation', 'flip_prob', 'color_jitter', 'jitter_prob',
                'grayscale_prob', 'cutout_max'}
# valid values of the method keys (utils/checks.py), checked when the model is built
CLDA_RULES = dict(target_weight=NON_NEGATIVE, pseudo_scales=dict(POSITIVE, form='sequence'),
                  tau0=THRESHOLD, top=THRESHOLD, projection_warmup=NON_NEGATIVE_INT)
AUGMENT_RULES = dict(scale=dict(POSITIVE, form='pair'), max_rotation=dict(low=0, high=180),
                     flip_prob=PROBABILITY, jitter_prob=PROBABILITY, grayscale_prob=PROBABILITY,
                     cutout_max=NON_NEGATIVE_INT)
EXPANSION_RULES = dict(radius_quantile=THRESHOLD, max_distance=optional(POSITIVE))


@MODELS.register_module()
class CLDA(UDABaseSegmentor):
    """CLDA self-training (Zhang et al., "Unsupervised Contrastive Domain Adaptation for Semantic
    Segmentation", §5 and Eq. 7). One iteration:

    1. teacher (a hard copy of the student every 200 iterations) on the clean target crop, averaged
       over scales → ŷ, conf; class-adaptive thresholds τ_c = min(τ_0, top-10 % of class c);
    2. label expansion (§5.3): low-confidence pixels take the class of the nearest windowed teacher
       prototype within a radius, else ignore;
    3. one random affine view (scale, rotation, flip) per image for source and target, applied alike
       to images, labels and ω, then colour jitter / grayscale / CutOut;
    4. L_cls = CE(s, y_s) + λ CE(t, ŷ_t)                                               (Eq. 4)
    5. L_in = L_ctr(s, s⁺) + L_ctr(t, t⁺), L_cross = L_ctr(s, t⁺) over K anchors per class and
       domain, keys from per-class memories and this batch's prototypes (Eq. 1–3, 5, 6);
    6. L = L_cls + α (L_in + L_cross)                                                   (Eq. 7)
    7. after the backward pass: enqueue detached source pixels and prototypes of both domains
       (L_cross of step 5 already reads this batch's target prototypes in the memory).

    Args:
        segmentor, ema, teacher_bn, predict_on, data_preprocessor: see :class:`UDABaseSegmentor`.
            CLDA: ``ema=dict(alpha=0, buffers='copy', interval=200)``, ``teacher_bn='eval'``.
        projection_head (dict): the student's projection head (2 layers, 128-d, L2-normalised).
        contrast (dict | None): :class:`DomainContrast` arguments (``weight`` α of Eq. 7 = 0.1,
            ``tau`` 0.07, ``in_domain``/``cross_domain`` switches, ``anchors_per_class`` 1000,
            ``memory_size`` 1000, ``enqueue_per_class``, ``label_min_ratio``); None: CE only.
        target_weight (float): λ of Eq. 4 (0.1).
        source_losses (bool): the source terms (CE_s, L_in_src, L_cross). False gives the
            target-only objective of the contrastive pre-training stage 1b (spec §5.1, A1).
        pseudo_scales (tuple[float]): teacher scales (0.5 … 1.75).
        tau0 (float): τ_0 (0.9). top (float): share kept per class (0.1).
        label_expansion (dict | None): :class:`LabelExpansion` arguments; None disables it.
        augment (dict): ``scale``, ``max_rotation``, ``flip_prob`` of the affine view and the
            :class:`PhotometricAug` arguments (``color_jitter``, ``jitter_prob``, ``grayscale_prob``,
            ``cutout_max``).
        projection_warmup (int): iterations during which the contrast trains the projection head
            only (its input features detached). 0 (paper): the projection head comes trained from
            stage 1b; use it when stage 2 starts from a network without one.
    """
    STUDENT_MODES = ('student_pass', )

    def __init__(self, segmentor, projection_head=dict(type='ProjectionHead', in_channels=2048,
                                                       out_channels=128),
                 contrast=dict(weight=0.1, tau=0.07), ema=dict(alpha=0.0, buffers='copy',
                                                               interval=200),
                 teacher_bn='eval', target_weight=0.1, source_losses=True,
                 pseudo_scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75), tau0=0.9, top=0.1,
                 label_expansion=dict(radius_quantile=0.9),
                 augment=dict(scale=(0.4, 2.5), max_rotation=45.0, flip_prob=0.5),
                 projection_warmup=0, **kwargs):
        super().__init__(segmentor, ema=ema, teacher_bn=teacher_bn,
                         student_heads=dict(projection_head=projection_head), **kwargs)
        owner = type(self).__name__
        check_keys(owner, dict(target_weight=target_weight, pseudo_scales=pseudo_scales, tau0=tau0,
                               top=top, projection_warmup=projection_warmup), CLDA_RULES)
        check_keys(owner, augment, AUGMENT_RULES, 'augment.')
        check_keys(owner, label_expansion, EXPANSION_RULES, 'label_expansion.')
        check_keys(owner, contrast, DOMAIN_CONTRAST_RULES, 'contrast.')
        head = self.student.decode_head
        self.num_classes, self.ignore_index = head.num_classes, head.ignore_index
        self.target_weight, self.source_losses = target_weight, source_losses
        self.projection_warmup = projection_warmup
        self.pseudo_scales, self.tau0, self.top = tuple(pseudo_scales), tau0, top
        augment = dict(augment)
        unknown = set(augment) - AUGMENT_KEYS
        if unknown:
            raise KeyError(f'CLDA: unknown augment keys {sorted(unknown)}; valid: '
                           f'{sorted(AUGMENT_KEYS)}')
        self.geometric = {k: augment.pop(k) for k in ('scale', 'max_rotation', 'flip_prob')
                          if k in augment}
        pre = self.data_preprocessor
        self.photometric = PhotometricAug(pre.mean.flatten().tolist(), pre.std.flatten().tolist(),
                                          **augment)
        self.contrast = None if contrast is None else DomainContrast.for_student(self.student,
                                                                                  **contrast)
        # pseudo-label prototypes live in the teacher's penultimate (projection-head input) space
        self.expansion = None if label_expansion is None else LabelExpansion(
            self.num_classes, self.student.projection_head.in_channels, **label_expansion)
        if get_world_size() == 1 and any(isinstance(m, torch.nn.SyncBatchNorm)
                                         for m in self.student.modules()):
            print_log('CLDA: one process, so SyncBN runs as BN over the images of each pass '
                      '(source and target pass separately: batch_size images each), not over '
                      "the paper's global batch of 8 GPUs x 2 (train with --gpus 8)",
                      logger='current', level=logging.WARNING)

    # -- the iteration ---------------------------------------------------------------------------
    def train_iteration(self, inputs, data_samples, optim_wrapper, forward):
        src_img, tgt_img = inputs['source'], inputs['target']
        src_label = pixel_labels(data_samples['source'])
        with optim_wrapper.optim_context(self):  # under AMP the teacher's 6 passes autocast too
            pseudo, confident_label, omega = self.pseudo_labels(tgt_img)
        if self.source_losses:
            src_img, (src_label, ), _ = self.augmented_view(src_img, src_label)
        tgt_img, (pseudo, confident_label), omega = self.augmented_view(
            tgt_img, pseudo, confident_label, probs=omega)
        with optim_wrapper.optim_context(self):
            losses = forward(src_img, None, mode='student_pass', tgt_img=tgt_img,
                             src_label=src_label, pseudo=pseudo,
                             confident_label=confident_label, omega=omega)
        memory_update = losses.pop('memory_update', None)
        log_vars = self.backward(losses, optim_wrapper, 'clda')
        if memory_update is not None:
            self.contrast.update_memories(memory_update)
        log_vars['clda.pseudo_labelled'] = (pseudo != self.ignore_index).float().mean().item()
        self.debug_output = dict(source_img=self.denormalize(src_img), source_label=src_label,
                                 target_img=self.denormalize(tgt_img), pseudo_label=pseudo)
        return log_vars

    def train_step(self, data, optim_wrapper, forward=None):
        log_vars = super().train_step(data, optim_wrapper, forward)
        refreshed = (int(self.teacher.steps) - 1) % self.teacher.interval == 0
        if self.expansion is not None and refreshed:
            self.expansion.reset()  # a new teacher: a new window of its features (spec §4.2)
        return log_vars

    # -- steps -------------------------------------------------------------------------------------
    @torch.no_grad()
    def pseudo_labels(self, tgt_img):
        """Teacher pseudo-labels (§4.1) with label expansion (§4.2).

        Returns:
            tuple: pseudo-labels (B, H, W) (confident or expanded, else ignore), the confident
            pixels' labels (B, H, W) (the F_c of Eq. 3), and ω = the teacher's confidence
            (B, 1, H, W), the Eq. 2 weight of a confident pixel.
        """
        scales = self.pseudo_scales if self.expansion is None or 1.0 in self.pseudo_scales \
            else self.pseudo_scales + (1.0, )  # expansion reads the scale-1.0 features
        probs, feats = self.teacher_probs(tgt_img, scales)
        conf, pred = probs.max(1)
        taus = class_adaptive_thresholds(conf, pred, self.num_classes, self.tau0, self.top)
        confident = conf >= taus[pred]  # ≥: ties at the quantile (upsampled logits) stay in
        ignore = torch.full_like(pred, self.ignore_index)
        confident_label = torch.where(confident, pred, ignore)
        pseudo = confident_label
        if self.expansion is not None:
            g = feats[self.student.projection_head.in_index]
            w_f, pred_f = labels_to_grid(probs, g.shape[2:], 'mean').max(1)
            nearest, within = self.expansion(g, pred_f, w_f, w_f >= taus[pred_f])
            pseudo, _ = self.expansion.expand(confident_label, confident, nearest, within)
        return pseudo, confident_label, conf[:, None]

    def augmented_view(self, img, *labels, probs=None):
        """One random affine view per image (App. A, Table 5) of the image, its label maps and
        probability maps, then photometric augmentation of the image."""
        size = img.shape[2:]
        m = random_affine(img.shape[0], size, size, device=img.device, **self.geometric)
        img = self.photometric(warp_images(img, m, size))
        labels = tuple(warp_labels(lab, m, size, self.ignore_index) for lab in labels)
        return img, labels, None if probs is None else warp_images(probs, m, size)

    def student_pass(self, src_img, data_samples, tgt_img, src_label, pseudo, confident_label,
                     omega):
        """Student losses of both domains in one forward call (one DDP forward per backward):
        L_cls of Eq. 4 and α (L_in + L_cross) of Eq. 5–7; with the contrast, ``memory_update`` holds
        what to enqueue (:meth:`DomainContrast.update_memories`)."""
        contrast = self.contrast
        contrast = contrast if contrast is not None and contrast.enabled else None
        warm = int(self.teacher.steps) < self.projection_warmup

        def project(feats):  # the contrast's embeddings; the backbone waits out the warm-up
            return self.student.projection_head([f.detach() for f in feats] if warm else feats)
        tgt_feats, tgt_out = self.student_outputs(tgt_img)  # HRDA: LR context features
        losses = {f'tgt.{k}': v for k, v in self.pass_losses(
            tgt_out, pseudo, scale=self.target_weight).items()}
        if contrast is not None:
            tgt_losses, update = contrast.target_terms(project(tgt_feats), pseudo,
                                                       confident_label, omega)
            losses.update(tgt_losses, memory_update=update)
        if self.source_losses:
            src_feats, src_out = self.student_outputs(src_img)
            losses.update({f'src.{k}': v for k, v in
                           self.pass_losses(src_out, src_label).items()})
            if contrast is not None:
                src_losses, src_update = contrast.source_terms(project(src_feats), src_label,
                                                               target_update=update)
                losses.update(src_losses, memory_update={**update, **src_update})
        return losses
