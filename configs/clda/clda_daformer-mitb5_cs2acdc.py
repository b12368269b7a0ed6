# CLDA's self-training on DAFormer's network and protocol, Cityscapes -> ACDC: as
# clda_daformer-mitb5_gta2cs.py (projection head and label-expansion prototypes on MiT stage 3) on
# the data of configs/_base_/datasets/uda_cityscapes_to_acdc_512x512.py.
# Protocol: DAFormer's data and schedule (DAFormer §4.1) with CLDA's self-training (CLDA §5).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_acdc_512x512.py', '../_base_/uda/clda.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    projection_head=dict(in_channels=320, in_index=2))
