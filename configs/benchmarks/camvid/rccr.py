# CamVid day->dusk benchmark, `rccr`: the `dacs` benchmark config (same warm start, schedule, EMA,
# teacher prediction and augmentation) plus RCCR's region-wise contrast (configs/_base_/uda/rccr.py
# values: tau 0.1, delta 0.75, NS(R), NS(C), 3-batch memory, half-grid CutMix square, jitter + blur
# of the CutMix image), so the two rows differ only by the contrast. The projector is 512 -> 512 ->
# 128 on the ResNet-18 layer4; mu(t) ramps over the 300 iterations.
_base_ = ['./dacs.py']
model = dict(
    type='RCCR',
    projection_head=dict(type='ProjectionHead', in_channels=512, channels=512, out_channels=128,
                         num_convs=2),
    region_contrast=dict(tau=0.1, confidence=0.75, random_half=True, class_aware=True,
                         memory_batches=3, normalize='square'),
    contrast_weight=0.01,
    ramp_iters={{_base_.max_iters}},
    ramp_power=0.5,
    cut_area=0.5)
model_wrapper_cfg = dict(find_unused_parameters=True)
