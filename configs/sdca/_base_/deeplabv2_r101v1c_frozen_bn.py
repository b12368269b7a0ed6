# SDCA's network (§4.1.3): DeepLabV2 with all four ASPP branches summed (dilations 6, 12, 18, 24), ResNet-101
# at output stride 8, ImageNet weights, BatchNorm frozen as the authors' FrozenBatchNorm2d in the
# warm-up and adaptation stages (running statistics and affine parameters fixed). The code loads
# torchvision's ResNet-101 (V1b); we keep the project's ResNetV1c-101 ImageNet weights (deep stem).
_base_ = ['../../_base_/models/deeplabv2_r101v1c.py']
segmentor = dict(backbone=dict(norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True))
