# The generated toy domain shift (mmseg_uda/datasets/toy_shift.py): a street-like source rendered as a
# clean synthetic image, and a target rendered at dusk with a colour cast, texture, noise and blur.
# Generated into data/toy_shift on first use (seconds). 7 classes, 128x256 images.
num_classes = 7
data_root = 'data/toy_shift'
crop_size = (128, 256)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel'),
    dict(type='PackSegInputs'),
]
source = dict(type='ToyShiftDataset', data_root=data_root, domain='source', split='train',
              pipeline=source_train_pipeline)
target = dict(type='ToyShiftDataset', data_root=data_root, domain='target', split='train',
              with_labels=False, pipeline=target_train_pipeline)
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='UDADataset', source=source, target=target,
                 # images are 128x256, so DAFormer's 3000-pixel threshold is scaled down
                 rare_class_sampling=dict(class_temp=0.01, min_pixels=100, min_crop_ratio=0.5)))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ToyShiftDataset', data_root=data_root, domain='target', split='val',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
# mmseg's IoU plus per-class IoU keys (logged at every validation)
val_evaluator = dict(type='UDAIoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
