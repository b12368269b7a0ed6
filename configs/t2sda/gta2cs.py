# T2S-DA on DeepLabV2-R101 ("dlv2red"), GTA5 -> Cityscapes, 40k iterations, batch 2+2, 512x512:
# DACS with DAFormer's RCS, FD, warm-up and pseudo-label crop plus 0.1 * L_pull on the FDA
# pseudo-target (every value in configs/_base_/uda/t2sda.py). Projector on layer4 (2048-d,
# stride 8); AdamW 6e-5, the decode head and projector at x10 = 6e-4 (their parameter names
# contain 'head'). Not the paper's (UNSPECIFIED -> our choices, see the base): ASPP dilations
# (6, 12) only (DAFormer's dlv2red), poly decay after the warm-up, projector kernel 3x3, FDA beta
# 0.01 on the 512x512 crops, centre (nearest) labels on the feature grid, never-pseudo-labelled
# classes least confident in DRW.
# Reference: 60.4 ± 0.6 mIoU (baseline, DACS + DAFormer strategies: 56.3 ± 0.4).
# Protocol: T2S-DA's (§4, Supp. A), which runs DACS in DAFormer's code: ClassMix classes from the
# whole batch (DAFormer §3.1, §3.3, §4.1).
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/t2sda.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/t2sda.py
