# SDCA stage 2 on DeepLabV2-R101, SYNTHIA -> Cityscapes: as gta2cs.py with SYNTHIA's data
# (./_base_/synthia2cs_data.py; the 19-way model is scored over 16 and 13 classes). Reference: 46.6
# mIoU16 / 53.9 mIoU13 after this stage (Table 5 "multi-level"), 50.2 / 56.8 after self-training.
# Protocol: SDCA's (§4.1, Alg. 1 and the authors' code; no teacher, no ClassMix).
_base_ = [
    './_base_/deeplabv2_r101v1c_frozen_bn.py', './_base_/synthia2cs_data.py',
    '../_base_/uda/sdca.py', './_base_/sgd_poly_40k.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    source_aug=dict(color_jitter=(0.5, 0.5, 0.5, 0.2), jitter_prob=1.0, grayscale_prob=0.2,
                    cutout_max=0))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=1000),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))
