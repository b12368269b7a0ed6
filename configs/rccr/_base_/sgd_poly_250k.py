# RCCR's schedule (§4.1.2): SGD momentum 0.9, weight decay 5e-4, lr 2.5e-4 for the backbone and
# 2.5e-3 for the other modules (decode head, projector: 'head' x10), poly 0.9, 250k iterations,
# batch 2 (2 source + 2 target, DACS; one GPU, our choice). Validation and a checkpoint every 5k.
_base_ = ['../../_base_/schedules/sgd_poly_25k.py']
optim_wrapper = dict(optimizer=dict(lr=2.5e-4, weight_decay=5e-4))
max_iters = 250000
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=5000)
default_hooks = dict(checkpoint=dict(interval=5000))
