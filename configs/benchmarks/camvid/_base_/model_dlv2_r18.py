# CPU-sized DeepLabV2 for the CamVid day->dusk benchmark: ResNetV1c-18 at output stride 8 and the
# DeepLabV2 ASPP-sum classifier with the dilation-6 and -12 branches (the "dlv2red" head of the
# DACS-family baselines); random init (no ImageNet weights here). 11 CamVid classes.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(160, 160))  # random crops of the half-resolution (240x180) frames
segmentor = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='DLV2Head',
        in_channels=512,
        in_index=3,
        dilations=(6, 12),
        num_classes=11,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
