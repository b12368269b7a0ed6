# CONFETI's segmenter (CONFETI §4.1): DeepLabV2 with all four ASPP branches (dilations
# 6/12/18/24, summed) on ResNetV1c-101 at output stride 8, trainable BN, ImageNet weights, 640x640
# training crops, whole-image inference.
_base_ = ['../../_base_/models/deeplabv2_r101v1c.py']
segmentor = dict(data_preprocessor=dict(size=(640, 640)))
