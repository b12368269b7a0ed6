# Source-only baseline (the domain gap): DeepLabV2-R101 trained on GTA5 alone with DAFormer's schedule,
# evaluated on Cityscapes val. Reference: 38.6 mIoU (T2S-DA/SDCA), 32.9 (RCCR).
# Protocol: DAFormer's data and schedule (DAFormer §4.1), source images only.
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
train_dataloader = dict(
    dataset=dict(_delete_=True, type='GTA5Dataset', data_root='data/gta',
                 data_prefix=dict(img_path='images', seg_map_path='labels'),
                 pipeline={{_base_.source_train_pipeline}}))
