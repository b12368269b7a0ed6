# HRDA benchmark, the UDA step: DAFormer's self-training (configs/_base_/uda/dacs.py, with the
# thing-class feature distance) on the tiny DAFormer of model_daformer_tiny.py, toy shift data; no
# pseudo-label crop (128-row toy images). benchmarks/speed.py times it against its supervised step.
_base_ = [
    './_base_/model_daformer_tiny.py', '../../_base_/datasets/uda_toy_shift.py',
    '../../_base_/uda/dacs.py', '../../_base_/schedules/toy_cpu.py',
    '../../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}}, pseudo_weight_ignore_top=0,
             pseudo_weight_ignore_bottom=0)
