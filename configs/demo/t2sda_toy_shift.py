# T2S-DA on the toy shift, CPU-sized: dacs_toy_shift.py's DACS (warm start from the source-only demo
# model, 150 iterations, EMA 0.99, ClassMix per image, no pseudo-label crop, no feature distance) plus 0.1 * L_pull with
# the paper's values (configs/_base_/uda/t2sda.py), the projector on the tiny ResNet-18's layer4
# (256-d, stride 8) from random weights (it is not in the warm-start checkpoint). FDA beta 0.01 on
# the 128x256 images swaps a band of floor(0.01 * 128) = 1 frequency (the mean colour and the
# lowest frequencies).
_base_ = [
    '../_base_/models/deeplabv3_r18-tiny.py', '../_base_/datasets/uda_toy_shift.py',
    '../_base_/uda/t2sda.py', '../_base_/schedules/toy_cpu.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    projection_head=dict(in_channels=256),
    ema=dict(alpha=0.99),
    mix_scope='image',
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    imnet_feature_dist=None)
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/t2sda.py
load_from = 'work_dirs/demo/source_only/iter_300.pth'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_iters = 150
param_scheduler = [
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=75)
default_hooks = dict(logger=dict(interval=15), checkpoint=dict(interval=75))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=75),
]
