# DAFormer (MiT-B5 + context-aware fusion decoder, DACS self-training with RCS, FD, warm-up and
# pseudo-label crop), GTA5 -> Cityscapes, 40k iterations, batch 2+2, 512x512. Reference: 68.3 mIoU.
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
