# CLDA stage 1c, SYNTHIA -> Cityscapes (see gta2cs_1c_head.py): 5 epochs of SYNTHIA (9,400 images /
# 16 per step = 2.9k iterations).
_base_ = ['./synthia2cs_1a_source.py']
model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
optim_wrapper = dict(optimizer=dict(lr=1e-3),  # the head's lr (§4): no x10
                     paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))
max_iters = 2900
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=1450)
default_hooks = dict(checkpoint=dict(interval=1450))
