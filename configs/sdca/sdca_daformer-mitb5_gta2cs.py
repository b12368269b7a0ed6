# SDCA on DAFormer (MiT-B5 + context-aware fusion decoder; not in the paper, which is DeepLabV2 only)
# with DAFormer's data protocol and schedule (512x512 crops, rare-class sampling, AdamW 6e-5 with the
# head x10, warm-up, 40k iterations, batch 2+2) and SDCA's losses (configs/_base_/uda/sdca.py): L_feat
# on MiT stage 4 (512-d, stride 32), L_out on the decoder's logits (stride 4). No teacher: the network
# predicts. Starts from a source-only DAFormer (configs/source_only/daformer-mitb5_gta2cs.py) with
# CE + 0.75 Lovasz; the statistics come from a pass over GTA5 at 1280x720 (the dataset base's
# statistics_dataloader).
# Protocol: DAFormer's data and schedule (DAFormer §4.1) with SDCA's losses (SDCA §3.2; no
# teacher, no ClassMix).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/sdca.py',
    '../_base_/schedules/adamw_daformer_40k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}}, feature_index=3)
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=1000),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
