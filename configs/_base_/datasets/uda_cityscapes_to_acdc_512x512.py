# Cityscapes (labelled source) -> ACDC (unlabelled target: fog, night, rain and snow together),
# DAFormer's data protocol. Sources: lhoyer/DAFormer configs/_base_/datasets/
# uda_cityscapes_to_acdc_512x512.py (pipelines, data, batch 2) and configs/experiments/
# cs2acdc_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py (RCS, self-training, 40k).
# - source: Cityscapes train (2975 images, gtFine trainIds from tools/dataset_converters/
#   cityscapes.py) resized to fit 1024x512, 512x512 crops re-drawn while one class covers > 75 %,
#   flips (DAFormer's pipeline);
# - target: ACDC train, all four conditions (1600 images, 1920x1080, no labels) resized to 960x540,
#   512x512 crops, flips (DAFormer: "original 1920x1080");
# - validation: ACDC val (406 images) at 960x540, scored against the full-resolution labels (loaded
#   after Resize). The papers report ACDC *test* (server), see `test_split_dataloader` below;
# - rare-class sampling on Cityscapes: T 0.01, > 3000 pixels, re-crop until > 1500 pixels of the
#   class (DAFormer's cs2acdc config); the class statistics are data/cityscapes/
#   sample_class_stats.json, written by tools/dataset_converters/cityscapes.py (or computed and
#   cached on first use).
# The self-training values (pseudo-label crop 15/120 rows, EMA 0.999, FD 0.005) are the method's
# (configs/_base_/uda/dacs.py): DAFormer's cs2acdc config keeps the 15/120 crop (HRDA/MIC drop it
# for ACDC, "no rectification artifacts": lhoyer/MIC seg/experiments.py; not DAFormer's protocol).
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
target = dict(type='ACDCDataset', data_root='data/acdc', split='train',
              conditions=('fog', 'night', 'rain', 'snow'),
              data_prefix=dict(img_path='rgb_anon'),  # no labels: unlabelled target
              pipeline=target_train_pipeline)
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
    dataset=dict(type='ACDCDataset', data_root='data/acdc', split='val',
                 conditions=('fog', 'night', 'rain', 'snow'),
                 data_prefix=dict(img_path='rgb_anon', seg_map_path='gt'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
# The ACDC test split (2000 images, labels withheld: scored by the benchmark server). Not used by
# any loop; a tool that writes server predictions selects it with
# `cfg.test_dataloader = cfg.test_split_dataloader` (each sample's img_path names its output).
test_split_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ACDCDataset', data_root='data/acdc', split='test',
                 conditions=('fog', 'night', 'rain', 'snow'),
                 data_prefix=dict(img_path='rgb_anon'), pipeline=test_split_pipeline))
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
