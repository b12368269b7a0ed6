# CONFETI stage 1 on DAFormer (MiT-B5 + context-aware fusion decoder), SYNTHIA -> Cityscapes: as
# synthia2cs.py (every method value in configs/_base_/uda/confeti.py) with the CAM head and the projection g
# on MiT stage 4 (512-d, stride 32: 20x20 cells per 640 crop; the paper uses DeepLabV2 only, so
# this variant is ours). AdamW 6e-5, decoder, CAM head, projector and phi x10. Stage 2:
# confeti_daformer-mitb5_synthia2cs_stage2.py; all stages: pipeline_daformer-mitb5_synthia2cs.py.
# Protocol: CONFETI's (§4.1 and the authors' code: ClassMix classes from the batch).
_base_ = [
    './_base_/daformer_mitb5_640.py', '../_base_/datasets/uda_synthia_to_cityscapes_640x640.py',
    '../_base_/uda/confeti.py', '../_base_/schedules/adamw_confeti_joint_80k.py',
    '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    cam_head=dict(in_channels=512),
    projection_head=dict(in_channels=512))
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/confeti.py
