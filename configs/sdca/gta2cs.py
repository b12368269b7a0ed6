# SDCA stage 2 (adaptation) on DeepLabV2-R101, GTA5 -> Cityscapes: every value of the method is in
# configs/_base_/uda/sdca.py, the data protocol in ./_base_/gta2cs_data.py, the schedule in
# ./_base_/sgd_poly_40k.py. Starts from the source-only warm-up (stage 1, set load_from or run
# ./pipeline_gta2cs.py; without a loaded network it refuses to train: model.require_warm_start); the
# class statistics are initialised from the source set before the first iteration
# (ClassStatisticsInitHook; a resumed run keeps its checkpointed statistics).
# Source augmentation (code): colour jitter (0.5, 0.5, 0.5, 0.2) always, grayscale 0.2 on the device,
# the 3x3 blur in the pipeline. Reference: 48.4 mIoU after this stage (Table 6 "multi-level"), 52.9
# after self-training (Table 3).
# Protocol: SDCA's (§4.1, Alg. 1 and the authors' code; no teacher, no ClassMix).
_base_ = [
    './_base_/deeplabv2_r101v1c_frozen_bn.py', './_base_/gta2cs_data.py', '../_base_/uda/sdca.py',
    './_base_/sgd_poly_40k.py', '../_base_/default_runtime.py'
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
