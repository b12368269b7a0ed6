# HRDA benchmark, the UDA step: dacs_daformer_tiny_toy_shift.py with the tiny HRDA of
# model_hrda_tiny.py as the segmentor (128x128 full-resolution context crops, 64x64 detail crops).
_base_ = [
    './_base_/model_hrda_tiny.py', '../../_base_/datasets/uda_toy_shift.py',
    '../../_base_/uda/dacs.py', '../../_base_/schedules/toy_cpu.py',
    '../../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}}, pseudo_weight_ignore_top=0,
             pseudo_weight_ignore_bottom=0)
