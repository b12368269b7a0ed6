# HRDA on DAFormer (MiT-B5), Cityscapes -> ACDC: DAFormer's self-training (configs/_base_/uda/
# dacs.py) on HRDA's multi-resolution segmentor (configs/_base_/models/hrda_daformer_sepaspp_mitb5.py)
# and the full-resolution data (uda_cityscapesHR_to_acdcHR_1024x1024.py: Cityscapes 2048x1024, ACDC
# 1920x1080, 1024 crops, RCS min crop ratio 2.0). Reference: 68.0 mIoU on ACDC test (HRDA,
# lhoyer/HRDA README).
# Protocol: HRDA's (Hoyer et al., ECCV 2022, §3, §4.1) with its released Cityscapes -> ACDC settings:
# no pseudo-label crop (ACDC has no rectification border, unlike Cityscapes).
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapesHR_to_acdcHR_1024x1024.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0)
