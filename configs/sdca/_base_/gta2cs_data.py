# SDCA's data, GTA5 -> Cityscapes (authors' code; §4.1.1 Table 1): whole images, no crop and no flip;
# GTA5 resized to exactly 1280x720, Cityscapes to 1024x512. Source: a 3x3 Gaussian blur in the code
# (here RandomGaussianBlur with sigma ~ U(0.1, 2), kernel +-3 sigma, always), its colour jitter and
# grayscale run on the device (SDCA's source_aug); target: no augmentation. Uniform sampling (no
# rare-class sampling). Batch: 1 source + 1 target per GPU on 4 GPUs = the paper's 4 + 4
# (`tools/dist_train.sh CONFIG 4`; on one GPU set train_dataloader.batch_size=4 if it fits).
# Evaluation as the project's base: Cityscapes val at 1024x512 scored at full label resolution.
_base_ = ['../../_base_/datasets/uda_gta_to_cityscapes_512x512.py']
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ValidateSegLabel', num_classes=19),
    dict(type='Resize', scale=(1280, 720), keep_ratio=False),
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
