# SYNTHIA-RAND-CITYSCAPES (labelled source) -> Cityscapes: the GTA5 protocol with SYNTHIA resized to fit
# 1280x760. Prepare the data with tools/dataset_converters/{synthia,cityscapes}.py. The model stays
# 19-way (Cityscapes trainIds); terrain, truck and train have no SYNTHIA pixels and are left out of the
# reported 16- and 13-class mIoU.
_base_ = ['./uda_gta_to_cityscapes_512x512.py']
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='Resize', scale=(1280, 760), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(source=dict(type='SynthiaDataset', data_root='data/synthia',
                             data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
                             pipeline=source_train_pipeline)))
# mIoU over the 16 classes SYNTHIA labels and the 13 of "mIoU*" (as DACS, DAFormer and the methods)
val_evaluator = dict(
    type='UDAIoUMetric',
    iou_metrics=['mIoU'],
    class_subsets=dict(mIoU16=[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18],
                       mIoU13=[0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]))
test_evaluator = val_evaluator
statistics_dataloader = dict(  # the pass over the labelled source set, as the GTA5 base
    dataset=dict(type='SynthiaDataset', data_root='data/synthia',
                 data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
                 pipeline=source_train_pipeline[:4] + [dict(type='PackSegInputs')]))
