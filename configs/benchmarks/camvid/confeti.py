# CamVid day->dusk benchmark, `confeti`: CONFETI stage 1 (configs/_base_/uda/confeti.py: CUT trained
# jointly with L_SC, CAM-weighted mixed prototypes, L_PCL + L_Reg on the stylised source, the mixed
# image and the target) on the `dacs` row's DACS (same warm start, EMA 0.99, teacher predicts, no
# crop, no feature distance), 300 iterations. CUT starts from the seed-0 `cut_day2dusk` run (stage
# 0, benchmark['cut_from']; one translator for the three seeds, to save CPU time) and keeps its CPU
# size (ngf = ndf = 16, 5 blocks, MLP 64, 64 patches).
# Short-run settings (not the paper's): the gates scaled from an 80k run from ImageNet to this
# 300-iteration warm-started one: mixed-image CAM loss after 20 iterations (paper 2000), CAM
# weighting of the prototypes and L_PCL after 30 (paper 3000); prototype momentum 0.99 (paper 0.999:
# over 300 iterations the prototypes would stay those of the first, random-projector batch; the
# teacher's EMA is 0.99 here for the same reason); the CAM head, projector and phi
# start from random weights (not in the warm start); ResNet-18 layer4 is 512-d; 11 classes (the
# regulariser divides by 11 ln 11); ClassMix per image as the `dacs` row; the student's AdamW
# (lr 1e-3, poly) holds phi, CUT keeps Adam 2e-4. Stage 2 (retraining with the frozen generator) is
# not run here: this row is stage 1's segmenter.
_base_ = [
    './_base_/model_dlv2_r18.py', './_base_/uda_day2dusk.py', '../../_base_/uda/confeti.py',
    './_base_/schedule_cpu.py', '../../_base_/default_runtime.py'
]
model = dict(
    segmentor={{_base_.segmentor}},
    mix_scope='image',
    ema=dict(alpha=0.99),
    predict_on='teacher',
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    imnet_feature_dist=None,
    cam_head=dict(in_channels=512),
    projection_head=dict(in_channels=512),
    prototypes=dict(cam_start_iter=30, momentum=0.99),
    pcl=dict(start_iter=30),
    cam_loss=dict(mixed_start_iter=20),
    style=dict(generator=dict(ngf=16, num_blocks=5), discriminator=dict(ndf=16),
               patch_mlp=dict(mlp_dim=64), num_patches=64))
cut_optimizer = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0)
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    student=dict(optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01)),
    generator=dict(optimizer=cut_optimizer),
    discriminator=dict(optimizer=cut_optimizer),
    patch_mlp=dict(optimizer=cut_optimizer))
model_wrapper_cfg = dict(find_unused_parameters=True)
max_iters = 300
param_scheduler = dict(
    _delete_=True,
    student=[dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=max_iters, by_epoch=False)],
    generator=[], discriminator=[], patch_mlp=[])
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [dict(type='RandomStateHook'), dict(type='UDADebugVisualizationHook', interval=100)]
benchmark = dict(warm_start='source_only_aug', cut_from='cut_day2dusk', cut_seed=0)  # read by
# benchmarks/camvid_day2dusk.py
