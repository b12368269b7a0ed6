# DAFormer (MiT-B5 + context-aware fusion decoder, DACS self-training with RCS, FD, warm-up and
# pseudo-label crop), GTA5 -> Cityscapes, 40k iterations, batch 2+2, 512x512. Reference: 68.3 mIoU.
# Protocol: DAFormer's (Hoyer et al., CVPR 2022: §3.1 self-training, §3.3 RCS / FD / warm-up, §4.1
# implementation; its released code draws the ClassMix classes from the whole batch).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
