# CONFETI stage 2 on DeepLabV2-R101, GTA5 -> Cityscapes (CONFETI §3.2.3): the segmenter
# retrained from ImageNet with stage 1's generator frozen (the pipeline's init
# '1_joint:generator.', or model.cut_checkpoint): fresh heads, prototypes, optimiser and schedule;
# no CUT update, no L_SC, no target-only L_PCL; everything else as stage 1, 80k iterations, 640x640.
# Protocol: CONFETI's (§3.2.3, §4.1; ClassMix classes from the batch). Report the last checkpoint.
_base_ = [
    './_base_/deeplabv2_640.py', '../_base_/datasets/uda_gta_to_cityscapes_640x640.py',
    '../_base_/uda/confeti.py', '../_base_/schedules/adamw_confeti_80k.py',
    '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}}, style=dict(train=False), pcl=dict(target=False))
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/confeti.py
