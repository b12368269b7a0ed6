# DACS + DAFormer's training strategies (RCS, FD, warm-up, pseudo-label crop) on DeepLabV2-R101
# ("dlv2red"), GTA5 -> Cityscapes, 40k iterations, batch 2+2, 512x512. Reference: T2S-DA's
# "DACS + 2 DAFormer strategies" 56.3 ± 0.4 mIoU; DACS itself 52.1.
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
