# CamVid day->dusk benchmark, `cut_day2dusk`: CONFETI's stage 0 (the authors' code), the CUT
# translator trained alone on the day (A) / dusk (B) crops, which the `confeti*` rows start from
# (their benchmark['cut_from']). Not scored (no segmenter; benchmark['train_only']). CUT's losses
# and optimisers as configs/confeti/cut_gta2cs.py (LSGAN, PatchNCE on layers 0,4,8,12,16, tau 0.07,
# identity NCE, Adam 2e-4 betas (0.5, 0.999), constant LR). CPU size (not the paper's): ngf = ndf =
# 16 (paper 64), 5 residual blocks (paper 9; layer 16 is still the 5th block, as in the paper), MLP
# width 64 and 64 patches per layer (paper 256), batch 4, 300 iterations on the un-augmented day
# frames (the segmenter's photometric augmentation would teach CUT to undo it).
_base_ = ['./_base_/camvid_day2dusk.py', '../../_base_/default_runtime.py']
train_dataloader = dict(dataset=dict(_delete_=True, type='UDADataset', source={{_base_.source}},
                                     target={{_base_.target}}))
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,  # CUT works on RGB in [-1, 1] (CUT's code)
    pad_val=0,
    seg_pad_val=255,
    size=(160, 160))
model = dict(
    type='CUTTranslator',
    data_preprocessor=data_preprocessor,
    generator=dict(type='ResnetGenerator', ngf=16, num_blocks=5),
    discriminator=dict(type='PatchDiscriminator', ndf=16, num_layers=3),
    patch_mlp=dict(type='PatchSampleMLP', mlp_dim=64),
    nce_layers=(0, 4, 8, 12, 16),
    num_patches=64,
    nce_tau=0.07,
    lambda_gan=1.0,
    lambda_nce=1.0,
    nce_idt=True)
test_dataloader = None
test_evaluator = None
test_cfg = None
cut_optimizer = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0)
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=cut_optimizer),
    discriminator=dict(optimizer=cut_optimizer),
    patch_mlp=dict(optimizer=cut_optimizer))
param_scheduler = []  # constant LR (the code never steps CUT's schedulers)
max_iters = 300
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
custom_hooks = [dict(type='RandomStateHook')]
benchmark = dict(train_only=True)  # read by benchmarks/camvid_day2dusk.py: no mIoU to score
