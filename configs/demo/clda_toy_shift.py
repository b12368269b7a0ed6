# CLDA self-training (stage 2) on the toy shift, CPU-sized: warm-started from the source-only demo
# model like dacs_toy_shift.py, 150 iterations. Short-run settings: the teacher is re-copied every
# 25 iterations (the paper: 200 of 25k); three teacher scales instead of six.
_base_ = [
    '../_base_/models/deeplabv3_r18-tiny.py', '../_base_/datasets/uda_toy_shift.py',
    '../_base_/uda/clda.py', '../_base_/schedules/toy_cpu.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    projection_head=dict(in_channels=256),
    ema=dict(interval=25),
    pseudo_scales=(0.75, 1.0, 1.25))
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
