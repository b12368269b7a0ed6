# CONFETI stage 1 on DAFormer (MiT-B5), Cityscapes -> ACDC: as confeti_daformer-mitb5_gta2cs.py
# (every method value in configs/_base_/uda/confeti.py, CAM head and projection g on MiT stage 4,
# CONFETI's 80k schedule) on the data of
# configs/_base_/datasets/uda_cityscapes_to_acdc_512x512.py. The paper has no Cityscapes -> ACDC
# result. UNSPECIFIED -> our choice: DAFormer's 512x512 crops of the 960x540 target (CONFETI's 640
# crops do not fit 540 rows), so the network pads to 512 (the DAFormer model base) and g sees
# 16x16 cells per crop. Stage 2: confeti_daformer-mitb5_cs2acdc_stage2.py; all stages:
# pipeline_daformer-mitb5_cs2acdc.py.
# Protocol: CONFETI's (§4.1 and the authors' code) on DAFormer's ACDC data.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_acdc_512x512.py',
    '../_base_/uda/confeti.py', '../_base_/schedules/adamw_confeti_joint_80k.py',
    '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    cam_head=dict(in_channels=512),
    projection_head=dict(in_channels=512))
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/confeti.py
