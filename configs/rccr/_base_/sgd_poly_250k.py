# RCCR's schedule (§4.1.2): SGD momentum 0.9, weight decay 5e-4, lr 2.5e-4 for the backbone and
# 2.5e-3 for the other modules (decode head, projector), poly 0.9, 250k iterations, batch 2
# (2 source + 2 target, DACS; one GPU, spec suggestion). Validation and a checkpoint every 5k.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='UDAOptimWrapperConstructor',  # UDA models: optimise the student only
    optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.0),
                                        projection_head=dict(lr_mult=10.0))))
max_iters = 250000
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=5000, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
