# GTA5 (labelled source) -> Cityscapes (unlabelled target), DAFormer's data protocol (DAFormer §4.1
# and its released configs): GTA5 resized to fit 1280x720 and Cityscapes to 1024x512 (aspect kept),
# 512x512 random crops, flips; evaluation on Cityscapes val at 1024x512, scored against the
# full-resolution 2048x1024 labels. Prepare the data with tools/dataset_converters/{gta,cityscapes}.py.
num_classes = 19
crop_size = (512, 512)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=num_classes),
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    # labels are loaded after Resize: predictions are scored at full resolution
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=num_classes),
    dict(type='PackSegInputs'),
]
source = dict(type='GTA5Dataset', data_root='data/gta',
              data_prefix=dict(img_path='images', seg_map_path='labels'),
              pipeline=source_train_pipeline)
target = dict(type='CityscapesDataset', data_root='data/cityscapes',
              data_prefix=dict(img_path='leftImg8bit/train'),  # no labels: unlabelled target
              pipeline=target_train_pipeline)
# Rare-class sampling as DAFormer (T=0.01, >3000 pixels, re-crop until >1500 pixels of the class);
# the statistics are written by the GTA5 converter (or computed and cached on first use).
rare_class_sampling = dict(class_temp=0.01, min_pixels=3000, min_crop_ratio=0.5)
train_dataloader = dict(
    batch_size=2,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='UDADataset', source=source, target=target,
                 rare_class_sampling=rare_class_sampling))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='CityscapesDataset', data_root='data/cityscapes',
                 data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's IoU plus per-class IoU keys (logged at every validation)
val_evaluator = dict(type='UDAIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
# One pass over the labelled source set (SDCA's class statistics, ClassStatisticsInitHook): whole
# images at the training scale, no augmentation, batch 1
statistics_dataloader = dict(
    batch_size=1,
    num_workers=4,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(source, pipeline=source_train_pipeline[:4] + [dict(type='PackSegInputs')]))
