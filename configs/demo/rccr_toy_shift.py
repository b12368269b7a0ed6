# RCCR on the toy shift, CPU-sized: dacs_toy_shift.py (warm start, schedule, EMA 0.99) plus the
# region-wise contrast with the paper's values (RCCR's defaults, configs/_base_/uda/rccr.py) on the
# tiny ResNet-18's layer4 (256 -> 256 -> 128), mu(t) ramped over the 150 iterations; the teacher
# predicts (Alg. 1).
_base_ = ['./dacs_toy_shift.py']
model = dict(
    type='RCCR',
    predict_on='teacher',
    projection_head=dict(type='ProjectionHead', in_channels=256, channels=256, out_channels=128,
                         num_convs=2),
    ramp_iters={{_base_.max_iters}})
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/rccr.py
