# DAFormer (MiT-B5 + context-aware fusion decoder, DACS self-training with RCS, FD, warm-up and
# pseudo-label crop), Cityscapes -> Dark Zurich: dacs_daformer-mitb5_gta2cs.py on the data of
# configs/_base_/datasets/uda_cityscapes_to_darkzurich_512x512.py (Dark Zurich train night at
# 960x540, 512x512 crops), 40k iterations, batch 2+2. Reference (DAFormer, lhoyer/DAFormer
# README): 53.8 mIoU on Dark Zurich test.
# Protocol: DAFormer's (Hoyer et al., CVPR 2022, §3.1, §3.3, §4.1); the self-training as its
# released cs2acdc config (no cs2darkzurich config was released: see the dataset base).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_darkzurich_512x512.py', '../_base_/uda/dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
