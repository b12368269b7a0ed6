# CONFETI stage 2 on DAFormer (MiT-B5), SYNTHIA -> Cityscapes: as synthia2cs_stage2.py (segmenter
# retrained from ImageNet with stage 1's generator frozen; no CUT update, no L_SC, no target-only
# L_PCL), with the heads of confeti_daformer-mitb5_synthia2cs.py.
# Protocol: CONFETI's (§3.2.3, §4.1; ClassMix classes from the batch). Report the last checkpoint.
_base_ = [
    './_base_/daformer_mitb5_640.py', '../_base_/datasets/uda_synthia_to_cityscapes_640x640.py',
    '../_base_/uda/confeti.py', '../_base_/schedules/adamw_confeti_80k.py',
    '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    cam_head=dict(in_channels=512),
    projection_head=dict(in_channels=512),
    style=dict(train=False),
    pcl=dict(target=False))
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/confeti.py
