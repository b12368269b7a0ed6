# SDCA on DAFormer, SYNTHIA -> Cityscapes: as sdca_daformer-mitb5_gta2cs.py on the SYNTHIA base
# (mIoU16 / mIoU13; the statistics from a pass over SYNTHIA at 1280x760).
# Protocol: DAFormer's data and schedule (DAFormer §4.1) with SDCA's losses (SDCA §3.2).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_synthia_to_cityscapes_512x512.py', '../_base_/uda/sdca.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}}, feature_index=3)
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=1000),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
