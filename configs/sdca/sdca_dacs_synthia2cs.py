# sdca_dacs, SYNTHIA -> Cityscapes (not a paper): as sdca_dacs_gta2cs.py on the SYNTHIA base; the
# statistics from a pass over SYNTHIA at 1280x760.
# Protocol: DAFormer's (§3.1, §3.3, §4.1 and its code: ClassMix classes from the batch).
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_synthia_to_cityscapes_512x512.py', '../_base_/uda/sdca_dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=1000),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
