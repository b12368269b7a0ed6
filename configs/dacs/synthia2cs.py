# DACS (DAFormer strategies) on DeepLabV2-R101, SYNTHIA -> Cityscapes; mIoU over 16 and 13 classes.
# Reference: DACS 48.3 (16) / 54.8 (13).
# Protocol: DAFormer's on DeepLabV2, as gta2cs.py.
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_synthia_to_cityscapes_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
