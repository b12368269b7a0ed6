# CamVid day->dusk benchmark, `t2sda`: T2S-DA (configs/_base_/uda/t2sda.py: FDA pseudo-target with
# the paired dusk crop, beta 0.01; 3x3 Conv-BN-ReLU x2 projector to 256-d on the ResNet-18 layer4
# (512-d); CBQS n = 128, 1024 negatives half day / half unreliable dusk, InfoNCE tau 0.2, lambda
# 0.1, DRW beta 0.5) on the `dacs` row's DACS (same warm start, schedule, EMA 0.99, ClassMix per
# image, teacher predicts, no crop, no feature distance), 300 iterations. The projector starts from random
# weights (it is not in the warm-start checkpoint).
_base_ = [
    './_base_/model_dlv2_r18.py', './_base_/uda_day2dusk.py', '../../_base_/uda/t2sda.py',
    './_base_/schedule_cpu.py', '../../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    projection_head=dict(in_channels=512),
    ema=dict(alpha=0.99),
    mix_scope='image',
    predict_on='teacher',
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    imnet_feature_dist=None)
optim_wrapper = dict(constructor='UDAOptimWrapperConstructor')  # the student (and its projector)
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/t2sda.py
max_iters = 300
param_scheduler = [
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [dict(type='RandomStateHook'), dict(type='UDADebugVisualizationHook', interval=100)]
benchmark = dict(warm_start='source_only_aug')  # read by benchmarks/camvid_day2dusk.py
