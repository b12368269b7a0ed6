# CLDA on DeepLabV2-R101, SYNTHIA -> Cityscapes, stage 2 (see gta2cs.py; pipeline:
# configs/clda/pipeline_synthia2cs.py). 19-way model, 16- and 13-class mIoU.
# Reference: 56.5 (16 classes) / 63.1 (13 classes) (Table 2).
# Protocol: CLDA's (§5.1-5.4, App. A, Table 5; no ClassMix, no EMA).
_base_ = [
    './_base_/deeplabv2_713.py', '../_base_/datasets/uda_synthia_to_cityscapes_713x713.py',
    '../_base_/uda/clda.py', '../_base_/schedules/sgd_poly_25k.py',
    '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
default_hooks = dict(checkpoint=dict(save_best='mIoU16', rule='greater'))
