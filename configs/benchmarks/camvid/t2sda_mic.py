# CamVid day->dusk benchmark, `t2sda_mic`: the `t2sda` row (same warm start, schedule and settings)
# plus MIC's masked image consistency (configs/_base_/uda/mic.py), 20 px blocks as in `dacs_mic`.
_base_ = ['./t2sda.py']
# MIC's other values are the defaults of mmseg_uda/models/utils/masking.py (= configs/_base_/uda/mic.py)
model = dict(masked_consistency=dict(block_size=20))
