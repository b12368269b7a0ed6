# CLDA stage 1c (CLDA §4, Fig. 3): the segmentation head is fine-tuned on the translated source
# with the backbone frozen (weights and BN statistics: frozen_stages=4, norm_eval), initialised from
# the student of stage 1b. The head trains at lr 1e-3 (the paper's 0.001: the x10 head multiplier
# of stage 1a is off) for 5 epochs of GTA5 (24,966 images / 16 per step = 7.8k iterations),
# poly 0.9 (our choice).
_base_ = ['./gta2cs_1a_source.py']
model = dict(backbone=dict(frozen_stages=4, norm_eval=True))
optim_wrapper = dict(optimizer=dict(lr=1e-3),  # the head's lr (§4): no x10
                     paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=1.0))))
max_iters = 7800
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=2600)
default_hooks = dict(checkpoint=dict(interval=2600))
