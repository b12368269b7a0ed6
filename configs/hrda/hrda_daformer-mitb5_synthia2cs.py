# HRDA on DAFormer (MiT-B5), SYNTHIA -> Cityscapes: as hrda_daformer-mitb5_gta2cs.py on the SYNTHIA
# full-resolution base. Reference: 65.8 mIoU16 (HRDA Table 1).
# Protocol: HRDA's (Hoyer et al., ECCV 2022, §3, §4.1).
_base_ = [
    '../_base_/models/hrda_daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_synthiaHR_to_cityscapesHR_1024x1024.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    pseudo_weight_ignore_top=30,
    pseudo_weight_ignore_bottom=240)
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
