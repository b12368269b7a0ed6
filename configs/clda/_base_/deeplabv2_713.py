# CLDA's network (CLDA Table 1, App. B.2): DeepLabV2 with all four ASPP branches on ResNetV1c-101 at
# output stride 8, ImageNet weights, 713x713 training crops and a 713x713 sliding window (stride
# 476) over the full 2048x1024 Cityscapes images at test time (our choice: the paper does not say).
# BN is synchronised over the global batch, as in PSPNet, whose settings CLDA follows (§5.4): with
# the pipeline's --gpus 8 every BN layer sees the paper's 16 images of a step. A single process
# trains with BN over its own batch instead (mmengine reverts SyncBN; CLDA logs it at build).
_base_ = ['../../_base_/models/deeplabv2_r101v1c.py']
segmentor = dict(
    data_preprocessor=dict(size=(713, 713)),
    backbone=dict(norm_cfg=dict(type='SyncBN', requires_grad=True)),
    test_cfg=dict(mode='slide', crop_size=(713, 713), stride=(476, 476)))
