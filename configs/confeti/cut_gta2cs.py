# CONFETI stage 0 on GTA5 -> Cityscapes: the CUT translator trained alone (the authors' code), the
# generator that stage 1 starts from. From the paper/CUT (§3.2.2): resnet_9blocks ngf 64, PatchGAN
# ndf 64 with 3 layers, MLPs of width 256, PatchNCE on layers 0,4,8,12,16 with 256 patches and tau
# 0.07, identity NCE, lambda_GAN = lambda_NCE = 1, LSGAN, three Adam optimisers lr 2e-4 betas (0.5,
# 0.999), constant LR, batch 2 per GPU. Not from the paper (silent on stage 0; our choice): the
# budget, 40k iterations of batch 2 (~3 passes over GTA5's 24,966 images; CUT's 200+200 epochs are
# far too long; judge convergence visually/FID), and the data: the DAFormer 512x512 crops of the
# GTA5/Cityscapes base (the authors' CUT run likely used scale_width 1080 + 512 crops), without
# rare-class sampling.
_base_ = ['../_base_/datasets/uda_gta_to_cityscapes_512x512.py', './_base_/cut_stage0.py']
# paired loader without rare-class sampling: CUT only needs images
train_dataloader = dict(batch_size=2, dataset=dict(rare_class_sampling=None))
statistics_dataloader = None
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
