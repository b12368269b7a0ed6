# CONFETI stage 0 (implied by the authors' code): the CUT translator trained alone, source (A) ->
# target (B). From the paper/CUT (CONFETI §3.2.2, Supp. A4-A6): resnet_9blocks ngf 64, PatchGAN
# ndf 64 with 3 layers, MLPs of width 256, PatchNCE on layers 0,4,8,12,16 with 256 patches and tau
# 0.07, identity NCE, lambda_GAN = lambda_NCE = 1, LSGAN, three Adam optimisers lr 2e-4 betas
# (0.5, 0.999), constant LR. The budget (40k iterations) is our choice (the paper is silent). A
# dataset config supplies the paired loader (without rare-class sampling: CUT only needs images).
_base_ = ['../../_base_/default_runtime.py']
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,  # CUT works on RGB in [-1, 1] (CUT's code)
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))
model = dict(
    type='CUTTranslator',
    data_preprocessor=data_preprocessor,
    generator=dict(type='ResnetGenerator', ngf=64, num_blocks=9),
    discriminator=dict(type='PatchDiscriminator', ndf=64, num_layers=3),
    patch_mlp=dict(type='PatchSampleMLP', mlp_dim=256),
    nce_layers=(0, 4, 8, 12, 16),
    num_patches=256,
    nce_tau=0.07,
    lambda_gan=1.0,
    lambda_nce=1.0,
    nce_idt=True)
val_cfg = None
test_cfg = None
cut_optimizer = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0)
# one wrapper per child; a top-level `type` (tools/train.py --amp sets it) applies to all three
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=cut_optimizer),
    discriminator=dict(optimizer=cut_optimizer),
    patch_mlp=dict(optimizer=cut_optimizer))
param_scheduler = []  # constant LR (the code never steps CUT's schedulers)
max_iters = 40000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
# one DDP per network: ℰ, 𝒢 and H_l are updated by separate backward passes (CUTTranslator docs);
# mmengine's wrapper passes device_ids, so distributed runs need GPUs
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
custom_hooks = [dict(type='RandomStateHook')]  # no UDA debug grid: there is no segmentor
