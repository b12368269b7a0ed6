# Cityscapes -> ACDC at full resolution for HRDA (its released dataset base
# uda_cityscapesHR_to_acdcHR_1024x1024.py and Cityscapes -> ACDC experiments): Cityscapes kept at
# 2048x1024 and ACDC at 1920x1080, 1024x1024 random crops (HRDA's context crops), flips, batch 2;
# rare-class sampling re-crops until the class covers min_crop_ratio 2.0 x 3000 pixels (as for
# GTA5 -> Cityscapes at full resolution); validation on ACDC val at 1920x1080 (the model's sliding
# 1024x1024 windows), the unlabelled test split likewise.
# The rest (datasets, conditions, loaders, evaluator) is the 512x512 base's.
_base_ = ['./uda_cityscapes_to_acdc_512x512.py']
crop_size = (1024, 1024)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='PackSegInputs'),
]
test_split_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='PackSegInputs'),
]
rare_class_sampling = dict(class_temp=0.01, min_pixels=3000, min_crop_ratio=2.0)
train_dataloader = dict(
    dataset=dict(source=dict(pipeline=source_train_pipeline),
                 target=dict(pipeline=target_train_pipeline),
                 rare_class_sampling=rare_class_sampling))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
test_split_dataloader = dict(dataset=dict(pipeline=test_split_pipeline))
statistics_dataloader = dict(
    dataset=dict(pipeline=source_train_pipeline[:4] + [dict(type='PackSegInputs')]))
