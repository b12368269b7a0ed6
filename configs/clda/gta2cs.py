# CLDA (Zhang et al.) on DeepLabV2-R101, GTA5 -> Cityscapes: stage 2, self-training with the
# in-/cross-domain contrast and label expansion; every paper hyper-parameter is in
# configs/_base_/uda/clda.py, the schedule (SGD 1e-3, poly 0.9, 25k iterations, 8 GPUs x 1+1) in
# sgd_poly_25k.py. Initialised from the stage-1 weights: run the whole pipeline with
#   python tools/train_pipeline.py configs/clda/pipeline_gta2cs.py --work-dir work_dirs/clda_gta2cs
# (it sets load_from). The student is evaluated. Reference: 60.2 mIoU (Table 1).
# Protocol: CLDA's (§5.1-5.4, App. A, Table 5; no ClassMix, no EMA).
_base_ = [
    './_base_/deeplabv2_713.py', '../_base_/datasets/uda_gta_to_cityscapes_713x713.py',
    '../_base_/uda/clda.py', '../_base_/schedules/sgd_poly_25k.py',
    '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
default_hooks = dict(checkpoint=dict(save_best='mIoU', rule='greater'))
