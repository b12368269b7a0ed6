# Cityscapes (labelled source) -> Dark Zurich night (unlabelled target), DAFormer's data protocol.
# Source: lhoyer/DAFormer configs/_base_/datasets/uda_cityscapes_to_darkzurich_512x512.py
# (pipelines, data, batch 2). DAFormer released no Cityscapes -> Dark Zurich training config
# (only a checkpoint); UNSPECIFIED -> our choice: the rest as its Cityscapes -> ACDC config
# (uda_cityscapes_to_acdc_512x512.py: RCS T 0.01 / 3000 / 0.5, the method's self-training with the
# 15/120 pseudo-label crop, 40k iterations).
# - source: Cityscapes train resized to fit 1024x512, 512x512 crops (cat_max_ratio 0.75), flips;
# - target: Dark Zurich train, night only (2416 images, 1920x1080, no labels; DAFormer's
#   rgb_anon/train/night), resized to 960x540, 512x512 crops, flips;
# - validation: Dark Zurich val (50 night images) at 960x540, scored against the full-resolution
#   labels. The papers report the test split (151 images, server), `test_split_dataloader`;
#   DAFormer's README warns that val and test scores differ a lot on Dark Zurich.
num_classes = 19
crop_size = (512, 512)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=num_classes),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(960, 540), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(960, 540), keep_ratio=True),
    # labels are loaded after Resize: predictions are scored at full resolution
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=num_classes),
    dict(type='PackSegInputs'),
]
test_split_pipeline = [  # the test split has no labels
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(960, 540), keep_ratio=True),
    dict(type='PackSegInputs'),
]
source = dict(type='CityscapesDataset', data_root='data/cityscapes',
              data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
              pipeline=source_train_pipeline)
target = dict(type='DarkZurichUDADataset', data_root='data/dark_zurich', split='train',
              conditions=('night', ),
              data_prefix=dict(img_path='rgb_anon'),  # no labels: unlabelled target
              pipeline=target_train_pipeline)
# Rare-class sampling on Cityscapes (see above); the class statistics are data/cityscapes/
# sample_class_stats.json, written by tools/dataset_converters/cityscapes.py (or computed and
# cached on first use).
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
    dataset=dict(type='DarkZurichUDADataset', data_root='data/dark_zurich', split='val',
                 conditions=('night', ), data_prefix=dict(img_path='rgb_anon', seg_map_path='gt'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
# The Dark Zurich test split (151 night images, labels withheld: scored by the benchmark server).
# Not used by any loop; a tool that writes server predictions selects it with
# `cfg.test_dataloader = cfg.test_split_dataloader` (each sample's img_path names its output).
test_split_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='DarkZurichUDADataset', data_root='data/dark_zurich', split='test',
                 conditions=('night', ), data_prefix=dict(img_path='rgb_anon'),
                 pipeline=test_split_pipeline))
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
