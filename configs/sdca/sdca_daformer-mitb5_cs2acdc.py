# SDCA on DAFormer, Cityscapes -> ACDC: as sdca_daformer-mitb5_gta2cs.py (L_feat on MiT stage 4,
# L_out on the logits, no teacher) on the data of
# configs/_base_/datasets/uda_cityscapes_to_acdc_512x512.py. Starts from a source-only DAFormer
# (configs/source_only/daformer-mitb5_cs2acdc.py); the statistics come from a pass over Cityscapes
# train at 1024x512 (the dataset base's statistics_dataloader).
# Protocol: DAFormer's data and schedule (DAFormer §4.1) with SDCA's losses (SDCA §3.2).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_cityscapes_to_acdc_512x512.py', '../_base_/uda/sdca.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}}, feature_index=3)
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=1000),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
