# DACS on the toy shift, CPU-sized: warm-started from the source-only demo model (`make demo` trains it
# first), then 150 DACS iterations with the paired source/target loader and rare-class sampling.
# Differences from the GTA5->Cityscapes recipe, for a run of a few hundred iterations on small images:
# EMA α=0.99 (DACS's value; 0.999 barely moves the teacher in 150 steps), no pseudo-label crop (the toy
# images have no rectification border; the ego strip is labelled ignore), no feature distance (the
# network has random init, there are no ImageNet features to keep), ClassMix classes per image (DACS;
# the README's demo numbers were measured so).
_base_ = [
    '../_base_/models/deeplabv3_r18-tiny.py', '../_base_/datasets/uda_toy_shift.py',
    '../_base_/uda/dacs.py', '../_base_/schedules/toy_cpu.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    ema=dict(alpha=0.99),
    mix_scope='image',
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    imnet_feature_dist=None)
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
