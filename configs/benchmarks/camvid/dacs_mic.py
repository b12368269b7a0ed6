# CamVid day->dusk benchmark, `dacs_mic`: the `dacs` row (same warm start, schedule and settings) plus
# MIC's masked image consistency (configs/_base_/uda/mic.py: mask ratio 0.7, lambda_m 1, DAFormer's
# colour augmentation of the target view). Blocks of 20 px: the 160x160 crops hold 8x8 blocks, as
# MIC's 64 px blocks tile its 512x512 crops.
_base_ = ['./dacs.py']
# MIC's other values are the defaults of mmseg_uda/models/utils/masking.py (= configs/_base_/uda/mic.py)
model = dict(masked_consistency=dict(block_size=20))
