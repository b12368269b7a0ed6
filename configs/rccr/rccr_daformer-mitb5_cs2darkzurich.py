# RCCR on DAFormer, Cityscapes -> Dark Zurich: as rccr_daformer-mitb5_gta2cs.py (projector on MiT
# stage 3, 320 -> 320 -> 128; mu(t) ramped over the 40k iterations) on
# dacs_daformer-mitb5_cs2darkzurich.py.
# Protocol: DAFormer's (§3.1, §3.3, §4.1 and its code: ClassMix classes from the batch).
_base_ = ['../dacs/dacs_daformer-mitb5_cs2darkzurich.py']
model = dict(  # the contrast's values of configs/_base_/uda/rccr.py (RCCR §4.1.2)
    type='RCCR',
    projection_head=dict(type='ProjectionHead', in_channels=320, channels=320, out_channels=128,
                         num_convs=2, in_index=2),
    region_contrast=dict(tau=0.1, confidence=0.75, random_half=True, class_aware=True,
                         memory_batches=3, normalize='square', detach_negatives=False,
                         drop_ignore_negatives=False, chunk_size=4096),
    contrast_weight=0.01,
    ramp_iters={{_base_.max_iters}},
    ramp_power=0.5,
    cut_area=0.5,
    cut_aug=True)
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/rccr.py
