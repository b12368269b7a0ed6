# DACS + DAFormer's training strategies (RCS, FD, warm-up, pseudo-label crop) on DeepLabV2-R101
# ("dlv2red"), GTA5 -> Cityscapes, 40k iterations, batch 2+2, 512x512. Reference: T2S-DA's
# "DACS + 2 DAFormer strategies" 56.3 ± 0.4 mIoU; DACS itself 52.1.
# Protocol: DAFormer's (§3.1, §3.3, §4.1 and its code: ClassMix classes from the whole batch) on
# DeepLabV2, as T2S-DA's baseline (T2S-DA §4, Table S3), which runs in DAFormer's code. DACS's own
# protocol (α 0.99, jitter 0.25, ClassMix classes per image, no RCS / FD / warm-up) is RCCR's base.
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
