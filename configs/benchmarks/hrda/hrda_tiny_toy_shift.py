# HRDA benchmark: the tiny HRDA trained supervised on the toy source domain: 128x128 full-resolution
# context crops of the 128x256 images (seen at 64x64) with 64x64 detail crops; evaluated on the toy
# target at full resolution with sliding 128x128 context windows.
_base_ = [
    './_base_/model_hrda_tiny.py', '../../_base_/datasets/uda_toy_shift.py',
    '../../_base_/schedules/toy_cpu.py', '../../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel'),
    dict(type='RandomCrop', crop_size=(128, 128)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ToyShiftDataset', data_root={{_base_.data_root}},
                 domain='source', split='train', pipeline=train_pipeline))
