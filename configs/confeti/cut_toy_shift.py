# CONFETI stage 0 on the toy shift, CPU-sized: the CUT translator trained alone (source -> target,
# spec §3.0) on the paired toy source/target images. From the paper/CUT (§2.9): the losses (LSGAN,
# PatchNCE on layers 0,4,8,12,16 with tau 0.07, identity NCE, lambda_GAN = lambda_NCE = 1), three
# Adam optimisers lr 2e-4 betas (0.5, 0.999), constant LR, batch 2. Not from the paper (CPU size):
# ngf = ndf = 16 (paper 64), 5 residual blocks (paper 9; 5 keeps layer 16 = 5th block), MLP width 64
# (paper 256), 64 patches per layer (paper 256), 400 iterations (stage-0 budget unspecified, §3.0),
# full 128x256 toy images (no crop). No validation metric: look at `CUTTranslator.val_step` outputs
# or apply the checkpoint with the `CUTStylize` transform.
_base_ = ['../_base_/datasets/uda_toy_shift.py', '../_base_/default_runtime.py']
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,  # CUT works on RGB in [-1, 1] (spec §6 item 14)
    pad_val=0,
    seg_pad_val=255,
    size=(128, 256))
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
# paired loader without rare-class sampling: CUT only needs images
train_dataloader = dict(batch_size=2, dataset=dict(rare_class_sampling=None))
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = None
test_evaluator = None
test_cfg = None
cut_optimizer = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0)
# one wrapper per child; a top-level `type` (tools/train.py --amp sets it) applies to all three
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=cut_optimizer),
    discriminator=dict(optimizer=cut_optimizer),
    patch_mlp=dict(optimizer=cut_optimizer))
param_scheduler = []  # constant LR (spec §6 item 17)
max_iters = 400
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# one DDP per network: ℰ, 𝒢 and H_l are updated by separate backward passes (CUTTranslator docs);
# mmengine's wrapper passes device_ids, so distributed runs need GPUs
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
custom_hooks = [dict(type='RandomStateHook')]  # no UDA debug grid: there is no segmentor
