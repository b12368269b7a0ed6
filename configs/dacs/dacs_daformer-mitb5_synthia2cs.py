# DAFormer (MiT-B5, DACS with RCS, FD, warm-up, pseudo-label crop), SYNTHIA -> Cityscapes.
# Reference: 60.9 (16 classes) / 67.4 (13 classes).
# Protocol: DAFormer's (Hoyer et al., CVPR 2022: §3.1 self-training, §3.3 RCS / FD / warm-up, §4.1
# implementation; its released code draws the ClassMix classes from the whole batch).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_synthia_to_cityscapes_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
