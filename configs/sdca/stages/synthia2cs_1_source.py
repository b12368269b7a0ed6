# SDCA stage 1: the source-only warm-up, SYNTHIA (authors' code: CE + 0.75 Lovasz, the "+L_lov" row of
# Table 5, 35.9 mIoU16; the paper's Eq. 17 is CE only, ablations/row1_source_only.py). SDCA with both
# contrasts off (no target pass; the paired loader still reads target images, which stay unused).
# Schedule (code): lr 5e-4 (head x10), poly 0.9 over 31,250 iterations stopped at 20k, 8 source
# images per step (4 GPUs x 2), no colour augmentation, no flip, frozen BN.
_base_ = ['../synthia2cs.py']
model = dict(feature_contrast=None, output_contrast=None, source_aug=None,
             require_warm_start=False)  # the warm-up itself starts from ImageNet
train_dataloader = dict(batch_size=2, dataset=dict(source=dict(
    pipeline={{_base_.statistics_dataloader.dataset.pipeline}})))  # no blur
optim_wrapper = dict(optimizer=dict(lr=5e-4))
max_iters = 20000
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=31250, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
custom_hooks = [dict(type='RandomStateHook')]
