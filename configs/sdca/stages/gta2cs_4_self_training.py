# SDCA stage 4, GTA5 -> Cityscapes: self-training on the stage-3 pseudo-labels (SDCA §3.3, Eq. 20).
# A plain DeepLabV2-R101 (all four ASPP branches [CODE], ImageNet weights: re-initialised, not
# fine-tuned from the adapted model [CODE]) trained with CE on the Cityscapes train images and their
# pseudo-labels only, no source data. Evaluated on Cityscapes val at 1024x512 against the 2048x1024
# labels. The authors' code keeps the best checkpoint by val mIoU [CODE]; we keep it too, but val is
# this protocol's test set: report the last checkpoint (iter_20000.pth).
# The paper's wording ("fine-tune the model", §3.3) instead: give the pipeline stage
# init=['<adaptation stage>'] (load_from = the adapted network).
_base_ = [
    '../../_base_/models/deeplabv2_r101v1c.py',
    '../../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../../_base_/default_runtime.py'
]
crop_size = (512, 1024)  # (h, w): 1024x512 random crops [CODE]
# The model base's network with 1024x512 batches (the data preprocessor pads smaller crops with
# ignore: the code's pad_if_needed) and CE averaged over the labelled pixels [CODE: PyTorch's CE
# with ignore 255], not mmseg's mean over all pixels: about half the pixels are ignored.
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size=crop_size),
    backbone={{_base_.segmentor.backbone}},  # ResNetV1c-101, OS8, ImageNet init
    decode_head=dict(
        type='DLV2Head',
        in_channels=2048,
        in_index=3,
        dilations=(6, 12, 18, 24),  # all four branches summed [CODE], not DAFormer's (6, 12)
        num_classes=19,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                         avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
# Target augmentation [CODE]: random scale 0.5-1.5 of 1024x512, random 1024x512 crop (padded when
# smaller), h-flip 0.5, colour jitter. The code's ColorJitter(0.5, 0.5, 0.5, 0.2) + grayscale 0.2 +
# 3x3 blur is approximated by mmseg's PhotoMetricDistortion (no grayscale or blur).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='RandomResize', scale=(1024, 512), ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
# Batch 8 target images [CODE: 4 GPUs x 2]: 2 per process, run with --gpus 4 (on one GPU set
# train_dataloader.batch_size=8). For multi-GPU training use SyncBN as the code (trainable BN):
# model.backbone.norm_cfg=dict(type='SyncBN', requires_grad=True).
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        _delete_=True,
        type='CityscapesDataset',
        data_root='data/cityscapes',
        # Placeholder: the SDCA pipeline sets this to '{work_dir}/3_pseudo_labels/labels', the
        # labels tools/pseudo_label.py wrote in stage 3 (named like Cityscapes trainId labels).
        data_prefix=dict(img_path='leftImg8bit/train',
                         seg_map_path='work_dirs/sdca_gta2cs/3_pseudo_labels/labels'),
        pipeline=train_pipeline))
# SGD lr 5e-4, decode head (the code's classifier) x10, momentum 0.9, weight decay 5e-4 [CODE; the
# paper gives 2.5e-4 and 1e-4 for adaptation only]; poly 0.9 over MAX_ITER 31,250 but stopped at
# 20,000 [CODE], so the last lr is 5e-4 x 0.36^0.9, not 0.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys=dict(decode_head=dict(lr_mult=10.0))))
max_iters = 20000
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=31250, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=1000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# validation and a checkpoint every 1,000 iterations; the best by Cityscapes val mIoU is kept
# [CODE], the last one is reported
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=1,
                    save_best='mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
