# Source-only baseline (the domain gap): DAFormer MiT-B5 trained on Cityscapes train alone with
# DAFormer's schedule, evaluated on ACDC val; also the warm start of
# sdca/sdca_daformer-mitb5_cs2acdc.py.
# Protocol: DAFormer's data and schedule (DAFormer §4.1), source images only.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_acdc_512x512.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
train_dataloader = dict(
    dataset=dict(_delete_=True, type='CityscapesDataset', data_root='data/cityscapes',
                 data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                 pipeline={{_base_.source_train_pipeline}}))
