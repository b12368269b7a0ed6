# sdca_dacs, GTA5 -> Cityscapes (not a paper): configs/dacs/gta2cs.py (DACS with DAFormer's strategies
# on DeepLabV2-R101 "dlv2red", 512x512 crops, RCS, AdamW 40k) plus SDCA's distribution-aware contrast
# in the same stage (configs/_base_/uda/sdca_dacs.py). Warm start: a source-only checkpoint
# (load_from), which also initialises the class statistics (a pass over GTA5 at 1280x720 before the
# first iteration).
# Protocol: DAFormer's (§3.1, §3.3, §4.1 and its code: ClassMix classes from the batch).
_base_ = [
    '../_base_/models/deeplabv2red_r101v1c.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/sdca_dacs.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=1000),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
