# CONFETI stage 1 on the toy shift, CPU-sized: dacs_toy_shift.py's DACS (warm start from the
# source-only demo model, 150 iterations, EMA 0.99, no pseudo-label crop, no feature distance) with
# CONFETI's values (configs/_base_/uda/confeti.py) except the sizes: CAM head and projector on the
# tiny ResNet-18's layer4 (256-d, stride 8) from random weights, CUT as cut_toy_shift.py (ngf = ndf =
# 16, 5 blocks, MLP 64, 64 patches; from scratch unless model.cut_checkpoint names that run's
# checkpoint) and the gates scaled to 150 iterations (mixed CAM loss after 10, CAM-weighted
# prototypes and L_PCL after 15; paper 2000 / 3000), prototype momentum 0.99 (paper 0.999).
_base_ = [
    '../_base_/models/deeplabv3_r18-tiny.py', '../_base_/datasets/uda_toy_shift.py',
    '../_base_/uda/confeti.py', '../_base_/schedules/toy_cpu.py', '../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    ema=dict(alpha=0.99),
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    imnet_feature_dist=None,
    cam_head=dict(in_channels=256),
    projection_head=dict(in_channels=256),
    prototypes=dict(cam_start_iter=15, momentum=0.99),
    pcl=dict(start_iter=15),
    cam_loss=dict(mixed_start_iter=10),
    style=dict(generator=dict(ngf=16, num_blocks=5), discriminator=dict(ndf=16),
               patch_mlp=dict(mlp_dim=64), num_patches=64))
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/confeti.py
load_from = 'work_dirs/demo/source_only/iter_300.pth'
cut_optimizer = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0)
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    student=dict(optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01),
                 paramwise_cfg=dict(custom_keys=dict(consistency_proj=dict(lr_mult=10.0)))),
    generator=dict(optimizer=cut_optimizer),
    discriminator=dict(optimizer=cut_optimizer),
    patch_mlp=dict(optimizer=cut_optimizer))
max_iters = 150
param_scheduler = dict(
    _delete_=True,
    student=[dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=max_iters, by_epoch=False)],
    generator=[], discriminator=[], patch_mlp=[])
train_cfg = dict(max_iters=max_iters, val_interval=75)
default_hooks = dict(logger=dict(interval=15), checkpoint=dict(interval=75))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=75),
]
