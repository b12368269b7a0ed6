# GTA5 -> Cityscapes at full resolution for HRDA (Hoyer et al., ECCV 2022, §4.1 and its released
# dataset base uda_gtaHR_to_cityscapesHR_1024x1024.py): GTA5 resized to 2560x1440 and Cityscapes
# kept at 2048x1024, 1024x1024 random crops (the context crops HRDA's segmentor sees at scale 0.5,
# with a 512x512 detail crop inside), flips, batch 2; rare-class sampling re-crops until the class
# covers min_crop_ratio 2.0 x 3000 pixels (4x the pixels of DAFormer's 512 crops); evaluation on
# Cityscapes val at full resolution (the model's sliding 1024x1024 windows, stride 512).
# The rest (loaders, datasets, evaluator) is the 512x512 base's.
_base_ = ['./uda_gta_to_cityscapes_512x512.py']
crop_size = (1024, 1024)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='Resize', scale=(2560, 1440), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='PackSegInputs'),
]
rare_class_sampling = dict(class_temp=0.01, min_pixels=3000, min_crop_ratio=2.0)
train_dataloader = dict(
    dataset=dict(source=dict(pipeline=source_train_pipeline),
                 target=dict(pipeline=target_train_pipeline),
                 rare_class_sampling=rare_class_sampling))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
statistics_dataloader = dict(
    dataset=dict(pipeline=source_train_pipeline[:4] + [dict(type='PackSegInputs')]))
