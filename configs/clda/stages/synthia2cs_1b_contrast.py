# CLDA stage 1b, SYNTHIA -> Cityscapes (see gta2cs_1b_contrast.py).
_base_ = ['../synthia2cs.py']
max_iters = 10000
model = dict(
    source_losses=False,
    contrast=dict(cross_domain=False),
    ema=dict(interval=max_iters + 1),
    label_expansion=None)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
