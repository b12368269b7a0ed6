# HRDA on DAFormer (MiT-B5), Cityscapes -> Dark Zurich: as hrda_daformer-mitb5_cs2acdc.py, on the data of
# uda_cityscapesHR_to_darkzurichHR_1024x1024.py (Dark Zurich train night at 1920x1080). Reference:
# 55.9 mIoU on Dark Zurich test (HRDA, lhoyer/HRDA README).
# Protocol: HRDA's (Hoyer et al., ECCV 2022, §3, §4.1), its Cityscapes -> ACDC settings (no
# pseudo-label crop), as MIC's released Dark Zurich experiments run it.
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapesHR_to_darkzurichHR_1024x1024.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0)
