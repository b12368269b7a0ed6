# SYNTHIA -> Cityscapes with CONFETI's protocol: the GTA5 one (uda_gta_to_cityscapes_640x640.py) with
# SYNTHIA resized to fit 1280x760 (UNSPECIFIED -> DAFormer's); 19-way model, mIoU over
# 16 and 13 classes.
_base_ = ['./uda_synthia_to_cityscapes_512x512.py']
crop_size = (640, 640)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='Resize', scale=(1280, 760), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1280, 640), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1280, 640), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(source=dict(pipeline=source_train_pipeline),
                                     target=dict(pipeline=target_train_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
