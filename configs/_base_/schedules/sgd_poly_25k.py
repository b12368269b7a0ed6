# CLDA's self-training schedule (CLDA §5.4): SGD momentum 0.9, weight decay 1e-4,
# lr 1e-3 with PSPNet's poly(0.9) decay ("same as [65]": PSPNet's), 25k iterations,
# 8 GPUs x (1 source + 1 target). The head's 10x lr of DeepLabV2/PSPNet code is our choice (the
# paper does not say). Validation and a checkpoint every 2.5k iterations.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='UDAOptimWrapperConstructor',  # UDA models: optimise the student only
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.0))))
max_iters = 25000
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2500, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
