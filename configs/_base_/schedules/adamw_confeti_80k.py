# CONFETI's segmenter schedule (CONFETI §4.1 and the authors' code): DAFormer's AdamW (lr 6e-5,
# betas (0.9, 0.999), wd 0.01; x10 for every parameter whose name contains `head` (decode, CAM and
# projection heads) and for phi, `consistency_proj`), linear warm-up over 1500 iterations from 1e-6
# times a poly (power 1) decay to 0, 80k iterations per stage (the code's; the paper is silent),
# target validation and a checkpoint every 4k; the last checkpoint is the one to report.
_base_ = ['./adamw_daformer_40k.py']
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(consistency_proj=dict(lr_mult=10.0))))
max_iters = 80000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, begin=0, end=1500, by_epoch=False),
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
