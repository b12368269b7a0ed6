# The README's demo: a small DeepLabV3 trained on the labelled toy *source* domain only (no adaptation)
# and evaluated on the toy *target* domain; CPU-sized (a few minutes on 2 cores, random init).
# It shows the domain gap that the UDA methods close (`make demo` evaluates both domains):
#   python tools/test.py configs/demo/source_only_toy_shift.py work_dirs/demo/iter_300.pth \
#       --cfg-options test_dataloader.dataset.domain=source
_base_ = [
    '../_base_/models/deeplabv3_r18-tiny.py', '../_base_/datasets/uda_toy_shift.py',
    '../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
# supervised source-only training: the source dataset alone, not the paired UDADataset
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ToyShiftDataset', data_root={{_base_.data_root}},
                 domain='source', split='train', pipeline={{_base_.source_train_pipeline}}))
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999), weight_decay=0.01))
max_iters = 300
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=50, by_epoch=False),
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=50, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=150)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=150, max_keep_ckpts=1, save_best='mIoU', rule='greater'))
