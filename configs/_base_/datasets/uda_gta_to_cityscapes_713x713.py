# GTA5 -> Cityscapes with CLDA's (PSPNet-style) protocol (CLDA §5.1, Table 5: 713x713 crops; the
# resolution before the crop is not given, we keep the original one): images at their original
# resolution (GTA5 1914x1052, Cityscapes 2048x1024), random 713x713 crops, no flip in the loader
# (CLDA draws its own student views); evaluation on Cityscapes val at 2048x1024 with a 713x713
# sliding window (the model's test_cfg). `translated_source_pipeline` is the source pipeline with
# stage 0's translation (FDA against random Cityscapes train images: the paper's MUNIT, CLDA §4, is
# not available) for the pre-training stages 1a and 1c.
_base_ = ['./uda_gta_to_cityscapes_512x512.py']
crop_size = (713, 713)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes={{_base_.num_classes}}),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='PackSegInputs'),
]
translation = dict(type='FDA', target_dir='data/cityscapes/leftImg8bit/train', beta=0.01)
translated_source_pipeline = source_train_pipeline[:-1] + [translation, dict(type='PackSegInputs')]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes={{_base_.num_classes}}),
    dict(type='PackSegInputs'),
]
source = dict(type='GTA5Dataset', data_root='data/gta',
              data_prefix=dict(img_path='images', seg_map_path='labels'),
              pipeline=source_train_pipeline)
translated_source = dict(source, pipeline=translated_source_pipeline)
target = dict(type='CityscapesDataset', data_root='data/cityscapes',
              data_prefix=dict(img_path='leftImg8bit/train'), pipeline=target_train_pipeline)
train_dataloader = dict(
    batch_size=1,  # per GPU and domain: 8 GPUs x (1 source + 1 target), our reading
    dataset=dict(_delete_=True, type='UDADataset', source=source, target=target))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
