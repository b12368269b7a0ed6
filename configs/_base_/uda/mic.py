# MIC, masked image consistency (Hoyer et al., CVPR 2023, §3.2, §4.1 and its released configs): the
# colour-augmented target image is masked in 64x64 blocks, each kept with probability 0.3 (mask ratio
# 0.7), and the student learns the EMA teacher's pseudo-labels of the complete target image on it,
# weighted by their quality weight q (the self-training's threshold 0.968), lambda_m = 1, in its own
# backward pass of the same iteration. The colour augmentation is DAFormer's for mixed images.
# A variable, not a `model` key, so that any DACS-family config can inherit it with its method base:
#   _base_ = ['<method config>.py', '../_base_/uda/mic.py']
#   model = dict(masked_consistency={{_base_.masked_consistency}})
masked_consistency = dict(
    block_size=64,
    ratio=0.7,
    loss_weight=1.0,
    images='target',
    color_aug=dict(color_jitter_strength=0.2, color_jitter_prob=0.2, blur=True))
# MIC's released Cityscapes -> ACDC / Dark Zurich configs mask one source image (ground truth,
# weight 1) and one target image of each batch, without the colour augmentation (its mask mode
# 'separate'; 'separatetrgaug' above is that of the synthetic-to-real benchmarks):
#   model = dict(masked_consistency={{_base_.masked_consistency_adverse}})
masked_consistency_adverse = dict(masked_consistency, images='source_and_target', color_aug=None)
