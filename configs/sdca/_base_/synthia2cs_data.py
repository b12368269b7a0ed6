# SDCA's data, SYNTHIA -> Cityscapes: as gta2cs_data.py with SYNTHIA resized to exactly 1280x760; the
# SYNTHIA base's mIoU16 / mIoU13 evaluation. The model stays 19-way (the project's convention; the
# authors train a 16-way classifier): the three classes SYNTHIA lacks are never labelled.
_base_ = ['../../_base_/datasets/uda_synthia_to_cityscapes_512x512.py']
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='Resize', scale=(1280, 760), keep_ratio=False),
    dict(type='RandomGaussianBlur', prob=1.0, sigma=(0.1, 2.0)),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=1,
    dataset=dict(source=dict(pipeline=source_train_pipeline),
                 target=dict(pipeline=target_train_pipeline), rare_class_sampling=None))
# the class statistics' initialisation pass (Alg. 1 line 2): resized as in training, no augmentation
statistics_dataloader = dict(
    dataset=dict(pipeline=source_train_pipeline[:4] + [dict(type='PackSegInputs')]))
