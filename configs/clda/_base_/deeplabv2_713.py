# CLDA's network (CLDA Table 1, App. B.2): DeepLabV2 with all four ASPP branches on ResNetV1c-101 at
# output stride 8, ImageNet weights, 713x713 training crops and a 713x713 sliding window (stride
# 476) over the full 2048x1024 Cityscapes images at test time (our choice: the paper does not say).
_base_ = ['../../_base_/models/deeplabv2_r101v1c.py']
segmentor = dict(
    data_preprocessor=dict(size=(713, 713)),
    test_cfg=dict(mode='slide', crop_size=(713, 713), stride=(476, 476)))
