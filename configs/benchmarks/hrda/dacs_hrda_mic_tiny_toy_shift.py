# HRDA benchmark, the UDA step: dacs_hrda_tiny_toy_shift.py plus MIC (configs/_base_/uda/mic.py) with
# 8 px blocks (MIC's 64 px divided by 8, as every size of this benchmark).
_base_ = ['./dacs_hrda_tiny_toy_shift.py']
model = dict(masked_consistency=dict(block_size=8))
