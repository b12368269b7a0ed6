# CLDA's self-training (stage 2, configs/_base_/uda/clda.py) on DAFormer's network and protocol:
# MiT-B5 + context-aware fusion decoder, 512x512 crops of the downscaled images with rare-class
# sampling, AdamW 6e-5 (head x10), 40k iterations (adamw_daformer_40k.py). The paper has no
# transformer result; this variant starts from the ImageNet encoder (no stage 1) unless load_from
# is set (e.g. to a source-only or stage-1 checkpoint). The projection head and the label-expansion
# prototypes read MiT stage 3 (320 channels, stride 16; stage 4 has stride 32, too coarse for
# 1000 anchors per class).
# Protocol: DAFormer's data and schedule (DAFormer §4.1) with CLDA's self-training (CLDA §5; no
# ClassMix, no EMA).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/clda.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    projection_head=dict(in_channels=320, in_index=2))
