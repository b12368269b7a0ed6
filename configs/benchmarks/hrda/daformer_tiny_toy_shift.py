# HRDA benchmark, baseline: the tiny DAFormer trained supervised on the toy source domain at half
# resolution (64x64 crops of the 64x128 downscaled images, as DAFormer's 512x512 crops of downscaled
# Cityscapes), evaluated on the toy target at half resolution against full-resolution labels.
# benchmarks/speed.py measures its step against hrda_tiny_toy_shift.py.
_base_ = [
    './_base_/model_daformer_tiny.py', '../../_base_/datasets/uda_toy_shift.py',
    '../../_base_/schedules/toy_cpu.py', '../../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(64, 64)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(128, 64), keep_ratio=True),
    dict(type='LoadAnnotations'),  # after Resize: scored at full resolution
    dict(type='ValidateSegLabel'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ToyShiftDataset', data_root={{_base_.data_root}},
                 domain='source', split='train', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
