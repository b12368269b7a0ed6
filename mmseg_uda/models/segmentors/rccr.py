import torch
from mmseg.registry import MODELS

from ..losses import RegionContrast
from ..utils.checks import (COUNT, NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, PROBABILITY,
                            THRESHOLD, check_keys, optional)
from ..utils.mixing import cutmix_squares, grid_to_pixels, mix
from ..utils.ramp import exp_rampup
from ..utils.sampling import labels_to_grid
from .dacs import DACS

# valid values of the method keys (utils/checks.py), checked when the model is built
RCCR_RULES = dict(contrast_weight=NON_NEGATIVE, ramp_iters=COUNT, ramp_power=POSITIVE,
                  cut_area=dict(THRESHOLD, form='scalar_or_pair'))
REGION_CONTRAST_RULES = dict(tau=POSITIVE, confidence=optional(PROBABILITY),
                             memory_batches=NON_NEGATIVE_INT, chunk_size=COUNT)


@MODELS.register_module()
class RCCR(DACS):
    """RCCR (Zhou et al., "Domain Adaptive Semantic Segmentation with Regional Contrastive
    Consistency Regularization", ICME 2022, §3): DACS plus a region-wise
    contrast between a CutMix image and the clean target. One iteration (Alg. 1):

    1. DACS (:class:`DACS`): L_CE on x_s; the EMA teacher labels the clean x_t (ŷ_t); ClassMix
       x_class, y_class and L_cons with the DACS confidence weight;
    2. CutMix (Eq. 3): x_cut = m ⊙ x_t + (1 − m) ⊙ x_s, m a square of whole feature cells at the
       same place in both images, then the colour jitter and blur of the mixed images;
    3. E_cut = F_proj(F_enc(x_cut)) (student); Ê_t = F̂_proj(F̂_enc(x_t)) (momentum projector, from
       the teacher pass of step 1); ŷ_t and its confidence pooled to the cells;
    4. L_cont (Eq. 4–8, :class:`RegionContrast`): each confident cell of the square pulled to the
       teacher's cell, pushed from the other cells of both maps and the memory of recent batches;
    5. L = L_CE + λ L_cons + μ(t) L_cont, μ(t) = w exp(−5 (1 − t/T)^p)                     (Eq. 9)
    6. EMA of encoder, segmentation head and projector (Eq. 2, 10).

    The paper evaluates the teacher (``predict_on='teacher'``). The projector is in the student's
    heads, so the teacher's copy is its EMA (the "momentum projector"). Under DDP the source pass
    does not use the projector and the CutMix pass not the decode head: the wrapper needs
    ``find_unused_parameters=True``.

    Args:
        segmentor, ema, teacher_bn, predict_on, data_preprocessor and the DACS arguments: see
            :class:`DACS` (RCCR: ``ema=dict(alpha=0.99)``, DACS's colour jitter 0.25, no
            pseudo-label crop, no feature distance).
        projection_head (dict): F_proj, 2048→2048→128 with ReLU, L2-normalised, on the backbone
            output ``in_index`` (ResNet layer4).
        region_contrast (dict | None): :class:`RegionContrast` arguments (τ 0.1, δ 0.75, NS(R),
            NS(C), memory of 3 batches); None: plain DACS (the ablation baseline).
        contrast_weight (float): w of μ(t) (0.01).
        ramp_iters (int): T of μ(t), the training length (250k).
        ramp_power (float): p of μ(t): 0.5 as Eq. 9 prints; 2 is the usual sigmoid ramp-up
            (spec B11).
        cut_area (float | tuple[float, float]): share of the grid the square covers, or a range to
            draw it from per image (UNSPECIFIED; spec suggestion 0.5, the half-area box).
        cut_aug (bool): apply the ClassMix image's ``strong_aug`` to x_cut too ("colour jittering
            and Gaussian blurring on the mixed images", §4.1.2).
    """
    STUDENT_MODES = DACS.STUDENT_MODES + ('cut_contrast_loss', )

    def __init__(self, segmentor, projection_head=dict(type='ProjectionHead', in_channels=2048,
                                                       out_channels=128),
                 region_contrast=dict(), contrast_weight=0.01, ramp_iters=250000,
                 ramp_power=0.5, cut_area=0.5, cut_aug=True, **kwargs):
        if 'contrast' in kwargs:
            raise KeyError('RCCR: `contrast` is CLDA\'s contrast of DACS; use `region_contrast`')
        kwargs['student_heads'] = dict(kwargs.get('student_heads') or {},
                                       projection_head=projection_head)
        super().__init__(segmentor, **kwargs)
        check_keys(type(self).__name__, dict(contrast_weight=contrast_weight, ramp_iters=ramp_iters,
                                             ramp_power=ramp_power, cut_area=cut_area), RCCR_RULES)
        check_keys(type(self).__name__, region_contrast, REGION_CONTRAST_RULES,
                   'region_contrast.')
        self.region_contrast = None if region_contrast is None else RegionContrast(
            dim=self.student.projection_head.out_channels, ignore_index=self.ignore_index,
            **region_contrast)
        self.contrast_weight, self.ramp_iters, self.ramp_power = (contrast_weight, ramp_iters,
                                                                  ramp_power)
        self.cut_area, self.cut_aug = cut_area, cut_aug

    def extra_losses(self, src_img, tgt_img, src_label, teacher, optim_wrapper, forward):
        """Steps 2–5: the CutMix image, the teacher's cell embeddings and labels, μ(t) L_cont."""
        if self.region_contrast is None:
            return {}
        feats = teacher['feats'][self.student.projection_head.in_index]
        grid = feats.shape[2:]
        square = cutmix_squares(feats.shape[0], grid, self.cut_area, device=feats.device)
        cut_img = mix(grid_to_pixels(square, tgt_img.shape[2:]), tgt_img, src_img)  # Eq. 3
        if self.cut_aug and self.strong_aug is not None:
            cut_img = self.strong_aug(cut_img)
        with torch.no_grad(), optim_wrapper.optim_context(self):
            e_t = self._teacher_for_inference().projection_head(teacher['feats'])
        conf, label_t = labels_to_grid(teacher['probs'], grid, 'mean').max(1)  # same cells as y_s
        label_cut = torch.where(square, label_t, labels_to_grid(src_label, grid))
        weight = exp_rampup(int(self.teacher.steps), self.ramp_iters, self.contrast_weight,
                            self.ramp_power)
        with optim_wrapper.optim_context(self):
            losses = forward(cut_img, None, mode='cut_contrast_loss', e_t=e_t, square=square,
                             conf=conf, label_t=label_t, label_cut=label_cut, weight=weight)
        log_vars = self.backward(losses, optim_wrapper, 'cut')
        log_vars['cut.anchors'] = self.region_contrast.anchor_mask(square, conf).sum().item() \
            / square.shape[0]
        if self.debug_output is not None:
            self.debug_output['cut_img'] = self.denormalize(cut_img)
        return log_vars

    def cut_contrast_loss(self, inputs, data_samples, e_t, square, conf, label_t, label_cut,
                          weight):
        """μ(t) L_cont of the student's CutMix embeddings (logged unweighted as ``rwc``)."""
        e_cut = self.student.projection_head(self.student.extract_feat(inputs))
        loss = self.region_contrast(e_cut, e_t, square, conf, label_t, label_cut)
        return dict(loss_rwc=weight * loss, rwc=loss.detach(),
                    rwc_weight=loss.new_tensor(weight))
