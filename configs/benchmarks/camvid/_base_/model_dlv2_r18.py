# CPU-sized DeepLabV2 for the CamVid day->dusk benchmark: the "dlv2red" DeepLabV2 of the DACS-family
# baselines (DeepLabV2 ASPP-sum head, dilation-6 and -12 branches, output stride 8) on ResNetV1c-18
# instead of -101, random init (no ImageNet weights here), 11 CamVid classes, 160x160 crops.
_base_ = ['../../../_base_/models/deeplabv2red_r101v1c.py']
data_preprocessor = dict(size=(160, 160))
segmentor = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(depth=18, init_cfg=None),
    decode_head=dict(in_channels=512, num_classes=11))
