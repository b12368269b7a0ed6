# HRDA on DAFormer (MiT-B5 + context-aware fusion decoder), GTA5 -> Cityscapes: DAFormer's
# self-training (configs/_base_/uda/dacs.py: RCS, thing-class FD, EMA 0.999, 0.968 threshold,
# warm-up, 40k) on HRDA's multi-resolution segmentor (configs/_base_/models/
# hrda_daformer_sepaspp_mitb5.py: 1024 context crops at scale 0.5, 512 detail crops, class-wise
# scale attention, lambda_d 0.1, sliding detail pseudo-labels and a 1024/512 sliding test) on the
# full-resolution data (uda_gtaHR_to_cityscapesHR_1024x1024.py). Reference: 73.8 mIoU (HRDA Table 1).
# Protocol: HRDA's (Hoyer et al., ECCV 2022, §3, §4.1): the pseudo-label crop doubles with the
# resolution (30 top / 240 bottom rows of the 2048x1024 frames, DAFormer's 15 / 120 at 1024x512).
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_gtaHR_to_cityscapesHR_1024x1024.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    pseudo_weight_ignore_top=30,
    pseudo_weight_ignore_bottom=240)
