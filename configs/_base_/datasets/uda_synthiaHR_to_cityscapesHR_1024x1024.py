# SYNTHIA -> Cityscapes at full resolution for HRDA: the GTA5 full-resolution base with SYNTHIA
# resized to 2560x1520 (HRDA's uda_synthiaHR_to_cityscapesHR_1024x1024.py) and the 16/13-class mIoU
# of the SYNTHIA protocol (uda_synthia_to_cityscapes_512x512.py).
_base_ = ['./uda_gtaHR_to_cityscapesHR_1024x1024.py']
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='Resize', scale=(2560, 1520), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(1024, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
synthia = dict(type='SynthiaDataset', data_root='data/synthia',
               data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'))
train_dataloader = dict(dataset=dict(source=dict(synthia, pipeline=source_train_pipeline)))
val_evaluator = dict(
    type='UDAIoUMetric',
    iou_metrics=['mIoU'],
    class_subsets=dict(mIoU16=[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18],
                       mIoU13=[0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]))
test_evaluator = val_evaluator
statistics_dataloader = dict(
    dataset=dict(synthia, pipeline=source_train_pipeline[:4] + [dict(type='PackSegInputs')]))
