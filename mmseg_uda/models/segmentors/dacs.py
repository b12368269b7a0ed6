import copy

import torch
import torch.distributed as dist
from mmengine.dist import is_distributed
from mmseg.registry import MODELS

from ..losses import DomainContrast
from ..utils.checks import (COUNT, NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, PROBABILITY,
                            THRESHOLD, check_keys)
from ..utils.global_batch import global_mean
from ..utils.masking import MaskedConsistency
from ..utils.mixing import StrongPhotometricAug, classmix_masks, mix
from ..utils.precision import upcast
from ..utils.sampling import labels_to_grid
from .uda_base import UDABaseSegmentor, feature_logits, pixel_labels

# Cityscapes trainIds of the "thing" classes for DAFormer's feature distance: light, sign, person,
# rider, car, truck, bus, train, motorcycle, bicycle.
CITYSCAPES_THINGS = (6, 7, 11, 12, 13, 14, 15, 16, 17, 18)
# valid values of the method keys (utils/checks.py), checked when the model is built
DACS_RULES = dict(pseudo_threshold=THRESHOLD, pseudo_weight_scope=('batch', 'image'),
                  pseudo_weight_ignore_top=NON_NEGATIVE_INT,
                  pseudo_weight_ignore_bottom=NON_NEGATIVE_INT, mix_scope=('image', 'batch'),
                  mix_loss_weight=NON_NEGATIVE)
# kornia's hue jitter is at most 0.5, and the strength is used for all four factors
STRONG_AUG_RULES = dict(color_jitter_strength=dict(low=0, high=0.5),
                        color_jitter_prob=PROBABILITY, blur_sigma=dict(POSITIVE, form='pair'))
FD_RULES = dict(lambda_=NON_NEGATIVE, scale_min_ratio=PROBABILITY)
DOMAIN_CONTRAST_RULES = dict(weight=NON_NEGATIVE, tau=POSITIVE, anchors_per_class=COUNT,
                             memory_size=COUNT, enqueue_per_class=COUNT,
                             label_min_ratio=PROBABILITY)


@MODELS.register_module()
class DACS(UDABaseSegmentor):
    """DACS self-training (Tranheden et al., WACV 2021) with DAFormer's additions (CVPR 2022).

    One iteration (DACS, Tranheden et al., WACV 2021, §3; DAFormer §3.1):

    1. L_S = CE(f_θ(x_S), y_S) (+ λ_FD · L_FD, thing-class ImageNet feature distance);
    2. ŷ_T, conf = argmax / max of softmax(f_θ'(x_T)) from the EMA teacher on the clean target;
       q = share of pixels with conf ≥ τ (per batch, all ranks; or per image); q := 0 on the
       ignored top/bottom rows;
    3. ClassMix: M = half of the classes of y_S; x_M = M x_S + (1 − M) x_T, y_M likewise with ŷ_T,
       w_M = M + (1 − M) q;
    4. strong colour jitter + blur of x_M;
    5. L_M = mean(w_M · CE(f_θ(x_M), y_M)) over all pixels; one optimiser step for L_S + L_M.

    Args:
        segmentor, ema, teacher_bn, predict_on, data_preprocessor: see :class:`UDABaseSegmentor`.
        pseudo_threshold (float): τ. Default 0.968.
        pseudo_weight_scope (str): ``'batch'`` (one q for the whole batch over all ranks: DACS and
            DAFormer code) or ``'image'`` (one q per image: T2S-DA Eq. S2).
        pseudo_weight_ignore_top (int): rows at the top with q = 0 (DAFormer: 15).
        pseudo_weight_ignore_bottom (int): rows at the bottom with q = 0 (DAFormer: 120).
        mix_scope (str): ClassMix candidate classes per ``'image'`` (DACS) or ``'batch'`` (DAFormer).
        strong_aug (dict | None): :class:`StrongPhotometricAug` arguments without mean/std
            (``color_jitter_strength`` 0.2, ``color_jitter_prob`` 0.2, ``blur`` True); None: off.
        mix_loss_weight (float): weight of L_M (DACS consistency weight 1).
        imnet_feature_dist (dict | None): enables FD: ``lambda_`` (0.005), ``classes``
            (Cityscapes thing classes), ``scale_min_ratio`` (0.75). The frozen ImageNet model is a
            copy of the segmentor built with its pretrained ``init_cfg``.
        contrast (dict | None): adds CLDA's in-/cross-domain contrast (:class:`DomainContrast`
            arguments; ``clda_dacs``): source anchors from the source pass, target anchors from
            the target pixels of the mixed image whose teacher confidence is ≥ τ (prototypes
            weighted by it, Eq. 2). L_cross reads the target prototypes of earlier iterations;
            the memories are updated after both backward passes.
        projection_head (dict): the student's projection head, needed with ``contrast``.
        masked_consistency (dict | None): adds MIC (Hoyer et al., CVPR 2023): the student also
            learns the teacher's pseudo-labels ŷ_T, weighted by q, from a colour-augmented target
            image masked in blocks (:class:`MaskedConsistency`: ``block_size`` 64, ``ratio`` 0.7,
            ``loss_weight`` 1, ``images``, ``color_aug``), in its own backward pass of the same
            iteration.
    """
    STUDENT_MODES = ('source_loss', 'weighted_loss')

    def __init__(self, segmentor, pseudo_threshold=0.968, pseudo_weight_scope='batch',
                 pseudo_weight_ignore_top=0, pseudo_weight_ignore_bottom=0, mix_scope='image',
                 strong_aug=dict(color_jitter_strength=0.2, color_jitter_prob=0.2, blur=True),
                 mix_loss_weight=1.0, imnet_feature_dist=None, contrast=None,
                 projection_head=None, masked_consistency=None, **kwargs):
        if contrast is not None:
            if projection_head is None:
                raise KeyError('DACS: `contrast` needs a `projection_head` config')
            kwargs['student_heads'] = dict(kwargs.get('student_heads') or {},
                                           projection_head=projection_head)
        super().__init__(segmentor, **kwargs)
        owner = type(self).__name__
        check_keys(owner, dict(pseudo_threshold=pseudo_threshold,
                               pseudo_weight_scope=pseudo_weight_scope,
                               pseudo_weight_ignore_top=pseudo_weight_ignore_top,
                               pseudo_weight_ignore_bottom=pseudo_weight_ignore_bottom,
                               mix_scope=mix_scope, mix_loss_weight=mix_loss_weight), DACS_RULES)
        check_keys(owner, strong_aug, STRONG_AUG_RULES, 'strong_aug.')
        check_keys(owner, imnet_feature_dist, FD_RULES, 'imnet_feature_dist.')
        check_keys(owner, contrast, DOMAIN_CONTRAST_RULES, 'contrast.')
        self.pseudo_threshold = pseudo_threshold
        self.pseudo_weight_scope = pseudo_weight_scope
        self.ignore_top = pseudo_weight_ignore_top
        self.ignore_bottom = pseudo_weight_ignore_bottom
        self.mix_scope = mix_scope
        self.mix_loss_weight = mix_loss_weight
        self.num_classes = self.student.decode_head.num_classes
        self.ignore_index = self.student.decode_head.ignore_index
        pre = self.data_preprocessor
        self.strong_aug = None if strong_aug is None else StrongPhotometricAug(
            pre.mean.flatten().tolist(), pre.std.flatten().tolist(), **strong_aug)
        self.fd_cfg = None
        if imnet_feature_dist is not None:
            self.fd_cfg = dict(lambda_=0.005, classes=CITYSCAPES_THINGS, scale_min_ratio=0.75)
            self.fd_cfg.update(imnet_feature_dist)
            self.imnet = MODELS.build(copy.deepcopy(dict(segmentor, data_preprocessor=None)))
            self.imnet.requires_grad_(False)
        self.contrast = None if contrast is None else DomainContrast.for_student(self.student,
                                                                                  **contrast)
        self.mic = None if masked_consistency is None else MaskedConsistency(
            owner, pre.mean.flatten().tolist(), pre.std.flatten().tolist(), **masked_consistency)

    def init_weights(self):
        super().init_weights()
        if self.fd_cfg is not None:
            self.imnet.init_weights()

    def train_iteration(self, inputs, data_samples, optim_wrapper, forward):
        src_img, tgt_img = inputs['source'], inputs['target']
        src_samples, tgt_samples = data_samples['source'], data_samples['target']
        with optim_wrapper.optim_context(self):
            src_losses = forward(src_img, src_samples, mode='source_loss')
            src_update = src_losses.pop('memory_update', {})
            log_vars = self.backward(src_losses, optim_wrapper, 'src')
            probs, teacher_feats = self.teacher_probs(tgt_img)
        pseudo_label, pseudo_weight, conf = self.pseudo_labels(probs)
        src_label = pixel_labels(src_samples)
        mask = classmix_masks(src_label, self.num_classes, self.mix_scope, self.ignore_index)
        mixed_img = mix(mask, src_img, tgt_img)
        if self.strong_aug is not None:
            mixed_img = self.strong_aug(mixed_img)
        mixed_label = mix(mask, src_label, pseudo_label)
        mixed_weight = mix(mask, torch.ones_like(pseudo_weight), pseudo_weight)
        with optim_wrapper.optim_context(self):
            mix_losses = forward(mixed_img, tgt_samples, mode='weighted_loss', labels=mixed_label,
                                 weights=mixed_weight,
                                 **self.mixed_target_labels(pseudo_label, conf, mask))
        mix_update = mix_losses.pop('memory_update', {})
        log_vars.update(self.backward(mix_losses, optim_wrapper, 'mix'))
        if self.contrast is not None:
            self.contrast.update_memories(src_update, mix_update)
        log_vars['mix.pseudo_weight'] = pseudo_weight.mean().item()
        self.debug_output = dict(source_img=self.denormalize(src_img), source_label=src_label,
                                 target_img=self.denormalize(tgt_img), pseudo_label=pseudo_label,
                                 pseudo_weight=pseudo_weight, mixed_img=self.denormalize(mixed_img),
                                 mixed_label=mixed_label, mix_mask=mask)
        log_vars.update(self.masked_consistency_step(
            src_img, src_label, tgt_img, tgt_samples, pseudo_label, pseudo_weight, optim_wrapper,
            forward))
        log_vars.update(self.extra_losses(
            src_img, tgt_img, src_label, dict(probs=probs, feats=teacher_feats), optim_wrapper,
            forward))
        return log_vars

    def masked_consistency_step(self, src_img, src_label, tgt_img, tgt_samples, pseudo_label,
                                pseudo_weight, optim_wrapper, forward):
        """MIC Eq. 6–7: L_m = λ_m · mean(q · CE(f_θ(M ⊙ aug(x_T)), ŷ_T)), with the pseudo-labels
        ŷ_T and weights q of the teacher's pass on the complete target image (this iteration's),
        back-propagated here; {} without ``masked_consistency``. With ``images='source_and_target'``
        every other image is a source image with its labels (weight 1) instead."""
        if self.mic is None:
            return {}
        img, label, weight = self.mic.images_of(src_img, src_label, tgt_img, pseudo_label,
                                                pseudo_weight)
        masked_img = self.mic(img)
        with optim_wrapper.optim_context(self):
            losses = forward(masked_img, tgt_samples, mode='weighted_loss', labels=label,
                             weights=weight, scale=self.mic.loss_weight)
        if self.debug_output is not None:
            self.debug_output['masked_img'] = self.denormalize(masked_img)
        return self.backward(losses, optim_wrapper, 'masked')

    def extra_losses(self, src_img, tgt_img, src_label, teacher, optim_wrapper, forward):
        """Losses a method adds to the DACS iteration, back-propagated here; returns log variables.

        ``teacher`` holds the teacher pass on the clean target: ``probs`` (B, C, H, W) and the
        backbone ``feats``. DACS adds none.
        """
        return {}

    # -- steps -------------------------------------------------------------------------------
    def source_loss(self, inputs, data_samples, imnet_inputs=None):
        """Student's supervised losses on the source, plus FD when enabled (needs gradients); the
        ImageNet model of FD sees ``imnet_inputs`` (default: ``inputs``; CONFETI: the original
        source while the student sees the stylised one)."""
        feats, output = self.student_outputs(inputs)
        logits = feature_logits(output)
        labels = pixel_labels(data_samples)
        losses = self.pass_losses(output, labels)
        if self.student.with_auxiliary_head:
            losses.update(self.student._auxiliary_head_forward_train(feats, data_samples))
        if self.fd_cfg is not None:
            losses['loss_fd'] = self.feature_distance(
                inputs if imnet_inputs is None else imnet_inputs, feats[-1], labels)
        losses.update(self.source_feature_losses(feats, logits, labels))
        return losses

    def weighted_loss(self, inputs, data_samples, labels, weights, contrast_label=None,
                      omega=None, scale=None):
        """Decode-head losses with per-pixel weights: ``scale`` (default ``mix_loss_weight``) ·
        mean over all pixels of w · CE (DACS), plus :meth:`target_feature_losses` of the target
        pixels labelled ``contrast_label``."""
        feats, output = self.student_outputs(inputs)
        losses = self.pass_losses(output, labels, weights,
                                  scale=self.mix_loss_weight if scale is None else scale)
        if contrast_label is not None:
            losses.update(self.target_feature_losses(feats, feature_logits(output),
                                                     contrast_label, omega))
        return losses

    # -- feature-level losses a method adds to the source and mixed passes ----------------------
    def mixed_target_labels(self, pseudo_label, conf, mask):
        """Labels of the mixed image's target pixels for :meth:`target_feature_losses`, as
        ``weighted_loss`` keyword arguments ({}: no target feature loss). With ``contrast``: the
        pixels whose teacher confidence is ≥ τ, weighted by it (ω, CLDA Eq. 2)."""
        if self.contrast is None:
            return {}
        confident = (conf >= self.pseudo_threshold) & ~mask
        return dict(contrast_label=torch.where(confident, pseudo_label, self.ignore_index),
                    omega=torch.where(mask, 0.0, conf)[:, None])

    def source_feature_losses(self, feats, logits, labels):
        """Losses of the source pass's backbone features and logits (CLDA's L_in_src, L_cross);
        ``memory_update`` holds what the contrast enqueues after the backward passes."""
        if self.contrast is None or not self.contrast.enabled:
            return {}
        losses, update = self.contrast.source_terms(self.student.projection_head(feats), labels)
        return dict(losses, memory_update=update)

    def target_feature_losses(self, feats, logits, labels, omega):
        """Losses of the mixed pass's target pixels ``labels`` (CLDA's L_in_tgt, weighted by ω);
        ``memory_update`` as in :meth:`source_feature_losses`."""
        if not self.contrast.enabled:
            return {}
        losses, update = self.contrast.target_terms(self.student.projection_head(feats), labels,
                                                    labels, omega)
        return dict(losses, memory_update=update)

    def pseudo_labels(self, probs):
        """Pseudo-labels ŷ_T (B, H, W), confidence weights q (B, H, W) and the confidence (B, H, W)
        from the teacher's probabilities (B, C, H, W)."""
        conf, label = probs.max(1)
        weight = self.confidence_ratio(conf).expand_as(conf).clone()
        if self.ignore_top > 0:
            weight[:, :self.ignore_top] = 0
        if self.ignore_bottom > 0:
            weight[:, -self.ignore_bottom:] = 0
        return label, weight, conf

    def confidence_ratio(self, conf):
        """q: the share of confidences ≥ τ, (1, 1, 1) over the global batch or (B, 1, 1) per
        image (``pseudo_weight_scope``)."""
        confident = (conf >= self.pseudo_threshold).float()
        if self.pseudo_weight_scope == 'image':
            return confident.mean((1, 2), keepdim=True)
        counts = torch.stack([confident.sum(), torch.tensor(confident.numel(), device=conf.device,
                                                             dtype=torch.float)])
        if is_distributed():  # one q over the global batch, as a single process would compute
            dist.all_reduce(counts)
        return (counts[0] / counts[1]).view(1, 1, 1)

    def feature_distance(self, inputs, feat, labels):
        """DAFormer's thing-class feature distance L_FD = Σ_j M_j ‖F_θ − F_ImNet‖₂ / Σ_j M_j.

        M keeps feature positions whose majority class (:func:`labels_to_grid`) covers at least
        ``scale_min_ratio`` of the position and is a thing class; the mean is over the global
        batch. Zero if M is empty.
        """
        with torch.no_grad():
            self.imnet.eval()
            feat_imnet = self.imnet.extract_feat(inputs)[-1].detach()
        major = labels_to_grid(labels, feat.shape[-2:], 'ratio', self.fd_cfg['scale_min_ratio'],
                               self.num_classes, self.ignore_index)
        things = torch.tensor(self.fd_cfg['classes'], device=labels.device)
        mask = torch.isin(major, things)
        dist_ = torch.norm(upcast(feat) - upcast(feat_imnet), p=2, dim=1)
        # mean over the thing pixels of the global batch; 0 (connected) when there are none
        return self.fd_cfg['lambda_'] * global_mean((dist_ * mask).sum(), mask.sum())
