# CamVid day->dusk benchmark, baseline `source_only`: supervised training on the labelled day frames,
# no photometric augmentation, no adaptation.
_base_ = [
    './_base_/model_dlv2_r18.py', './_base_/camvid_day2dusk.py', './_base_/schedule_cpu.py',
    '../../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
custom_hooks = [dict(type='RandomStateHook')]
