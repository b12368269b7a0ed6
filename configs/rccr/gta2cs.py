# RCCR on DeepLabV2-R101 (ImageNet, all four ASPP branches; BN affine frozen and the source CE
# averaged over the labelled pixels as in DACS's code: ./_base_/deeplabv2_r101v1c_dacs.py), GTA5 ->
# Cityscapes: every paper hyper-parameter is in configs/_base_/uda/rccr.py, the schedule (SGD
# 2.5e-4 / 2.5e-3, poly 0.9, 250k iterations, batch 2+2) in ./_base_/sgd_poly_250k.py. Data: GTA5 resized to 1280x720,
# Cityscapes to 1024x512, 512x512 crops (§4.1.2); uniform sampling (no rare-class sampling). The
# crop keeps our base's flip and DAFormer's cat_max_ratio 0.75 (not in the paper).
# Reference: 53.5 mIoU (Table 1).
# Protocol: RCCR's (§4.1.2, Alg. 1), i.e. DACS's own settings: ClassMix classes per image.
_base_ = [
    './_base_/deeplabv2_r101v1c_dacs.py',
    '../_base_/datasets/uda_gta_to_cityscapes_512x512.py', '../_base_/uda/rccr.py',
    './_base_/sgd_poly_250k.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}}, ramp_iters={{_base_.max_iters}})
train_dataloader = dict(dataset=dict(rare_class_sampling=None))
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/rccr.py
default_hooks = dict(checkpoint=dict(save_best='mIoU', rule='greater'))
