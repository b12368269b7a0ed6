# CONFETI stage 2 on DAFormer (MiT-B5), Cityscapes -> ACDC: as
# confeti_daformer-mitb5_gta2cs_stage2.py (segmenter retrained from ImageNet with stage 1's
# generator frozen; no CUT update, no L_SC, no target-only L_PCL) with the network and data of
# confeti_daformer-mitb5_cs2acdc.py.
# Protocol: CONFETI's (§3.2.3, §4.1) on DAFormer's ACDC data. Report the last checkpoint.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_acdc_512x512.py',
    '../_base_/uda/confeti.py', '../_base_/schedules/adamw_confeti_80k.py',
    '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    cam_head=dict(in_channels=512),
    projection_head=dict(in_channels=512),
    style=dict(train=False),
    pcl=dict(target=False))
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/confeti.py
