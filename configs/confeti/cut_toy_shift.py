# CONFETI stage 0 on the toy shift, CPU-sized: the CUT translator trained alone (source -> target,
# the authors' code) on the paired toy source/target images. From the paper/CUT (§3.2.2): the losses
# (LSGAN, PatchNCE on layers 0,4,8,12,16 with tau 0.07, identity NCE, lambda_GAN = lambda_NCE = 1),
# three Adam optimisers lr 2e-4 betas (0.5, 0.999), constant LR, batch 2. Not from the paper (CPU
# size): ngf = ndf = 16 (paper 64), 5 residual blocks (paper 9; 5 keeps layer 16 = 5th block), MLP
# width 64 (paper 256), 64 patches per layer (paper 256), 400 iterations (stage-0 budget
# unspecified), full 128x256 toy images (no crop). No validation metric: look at
# `CUTTranslator.val_step` outputs or apply the checkpoint with the `CUTStylize` transform.
_base_ = ['../_base_/datasets/uda_toy_shift.py', './_base_/cut_stage0.py']
model = dict(
    data_preprocessor=dict(size=(128, 256)),
    generator=dict(ngf=16, num_blocks=5),
    discriminator=dict(ndf=16),
    patch_mlp=dict(mlp_dim=64),
    num_patches=64)
# paired loader without rare-class sampling: CUT only needs images
train_dataloader = dict(batch_size=2, dataset=dict(rare_class_sampling=None))
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=200))
