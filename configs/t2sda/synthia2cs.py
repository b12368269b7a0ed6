# T2S-DA on DeepLabV2-R101 ("dlv2red"), SYNTHIA -> Cityscapes (SYNTHIA resized to fit 1280x760,
# UNSPECIFIED -> DAFormer's): as gta2cs.py. The model stays 19-way; mIoU over 16 and 13 classes.
# Reference: 57.6 (16) / 65.4 (13) mIoU (the per-class values give 65.3).
# Protocol: T2S-DA's (§4, Supp. A) on DAFormer's code, as gta2cs.py.
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_synthia_to_cityscapes_512x512.py', '../_base_/uda/t2sda.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/t2sda.py
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
