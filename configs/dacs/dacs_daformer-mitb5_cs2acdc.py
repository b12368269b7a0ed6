# DAFormer (MiT-B5 + context-aware fusion decoder, DACS self-training with RCS, FD, warm-up and
# pseudo-label crop), Cityscapes -> ACDC: dacs_daformer-mitb5_gta2cs.py on the data of
# configs/_base_/datasets/uda_cityscapes_to_acdc_512x512.py (ACDC train (fog, night, rain, snow)
# at 960x540, 512x512 crops), 40k iterations, batch 2+2. Reference (DAFormer, lhoyer/DAFormer
# README): 55.4 mIoU on ACDC test.
# Protocol: DAFormer's (Hoyer et al., CVPR 2022, §3.1, §3.3, §4.1 and its released cs2acdc
# config).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_acdc_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
