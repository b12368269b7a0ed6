# T2S-DA on DAFormer, Cityscapes -> ACDC: as t2sda_daformer-mitb5_gta2cs.py (projector on MiT stage
# 4, majority >= 75 % labels on its grid, FDA pseudo-target) on the data of
# configs/_base_/datasets/uda_cityscapes_to_acdc_512x512.py.
# Protocol: T2S-DA's (§4, Supp. A) on DAFormer, as t2sda_daformer-mitb5_gta2cs.py.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_acdc_512x512.py', '../_base_/uda/t2sda.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    projection_head=dict(in_channels=512),
    label_grid=dict(mode='ratio', min_ratio=0.75))
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/t2sda.py
