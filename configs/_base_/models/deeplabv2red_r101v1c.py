# DeepLabV2 as run by the DACS-family baselines ("dlv2red": only the dilation-6 and -12 ASPP
# branches are summed, see DLV2Head): ResNetV1c-101, output stride 8, ImageNet-pretrained.
# BN rather than SyncBN so that it also runs on CPU / a single GPU; for multi-GPU training switch
# with one override: norm_cfg = dict(type='SyncBN', requires_grad=True) in model.backbone.
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='UDADataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(512, 512))  # training batches padded to the 512x512 crops of the dataset bases
# Model bases define `segmentor`: source-only configs use `model = {{_base_.segmentor}}`,
# UDA configs `model = dict(segmentor={{_base_.segmentor}})`.
segmentor = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True,
        init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet101_v1c')),
    decode_head=dict(
        type='DLV2Head',
        in_channels=2048,
        in_index=3,
        dilations=(6, 12),
        num_classes=19,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
