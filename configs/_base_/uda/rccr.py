# RCCR (Zhou et al., ICME 2022): DACS as RCCR's Algorithm 1 runs it, plus the region-wise contrastive
# loss (§3.2). Protocol: DACS's own (RCCR §4.1.2 "following [61]"), not DAFormer's. Every value is the
# paper's unless marked:
# - DACS part (the paper only says "following [61]": DACS's own settings): EMA teacher alpha 0.99
#   with the DACS ramp (UNSPECIFIED -> DACS), teacher BN in train mode, the pseudo-label weight =
#   share of teacher confidences >= 0.968 (UNSPECIFIED -> DACS), ClassMix of half the source classes
#   of each image (mix_scope='image', DACS), colour jitter s=0.25 (p=0.8) + Gaussian blur on the
#   mixed images (DACS), L_cons weight lambda=1, no pseudo-label crop and no feature distance
#   (DAFormer's);
# - the teacher predicts (Alg. 1 returns the teacher; DACS evaluated the student);
# - projector 2048 -> 2048 -> 128 with ReLU on ResNet layer4, L2-normalised; its teacher copy is the
#   EMA ("momentum projector"). Biases on, no BN (UNSPECIFIED -> our choice);
# - L_cont: tau 0.1; positive sampling delta 0.75 on the teacher's probabilities pooled to the cells;
#   NS(R) one random half per image; NS(C) drops keys of the anchor's pseudo-label; memory of the
#   last 3 batches (the detached kept negatives of each iteration, our choice); Eq. 4 divides
#   by s^2 (literal; 'anchors' divides by the anchors kept); gradients through the E_cut
#   negatives (literal Eq. 6); ignore-labelled keys stay negatives (literal);
# - mu(t) = 0.01 exp(-5 (1 - t/T)^p), p = 0.5 as printed (ramp_power=2 is the usual ramp),
#   T = the training length (set ramp_iters to max_iters);
# - CutMix square: half of the feature grid (UNSPECIFIED -> our choice: S = 45 cells = 360 px
#   on 512^2 crops), corner uniform, whole stride-8 cells; jittered and blurred like the ClassMix
#   image ("on the mixed images", our reading).
# These contrast values are also RCCR's defaults, so a DACS config becomes RCCR with
# `model = dict(type='RCCR', projection_head=..., ramp_iters=...)`.
# The source pass does not use the projector and the CutMix pass not the decode head: the DDP wrapper
# needs find_unused_parameters=True (set in the method configs, next to the runtime base).
_base_ = ['./dacs.py']
model = dict(
    type='RCCR',
    ema=dict(alpha=0.99),
    predict_on='teacher',
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    mix_scope='image',
    strong_aug=dict(color_jitter_strength=0.25),
    imnet_feature_dist=None,
    projection_head=dict(type='ProjectionHead', in_channels=2048, channels=2048, out_channels=128,
                         num_convs=2),
    region_contrast=dict(tau=0.1, confidence=0.75, random_half=True, class_aware=True,
                         memory_batches=3, normalize='square', detach_negatives=False,
                         drop_ignore_negatives=False, chunk_size=4096),
    contrast_weight=0.01,
    ramp_iters=250000,
    ramp_power=0.5,
    cut_area=0.5,
    cut_aug=True,
)
