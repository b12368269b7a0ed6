# DAFormer (Hoyer et al., CVPR 2022): MiT-B5 encoder + context-aware fusion decoder (sep-ASPP).
# BN rather than SyncBN so that it also runs on CPU / a single GPU; for multi-GPU training switch
# with one override: norm_cfg = dict(type='SyncBN', requires_grad=True) in model.decode_head.
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
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=64,
        num_stages=4,
        num_layers=[3, 6, 40, 3],
        num_heads=[1, 2, 5, 8],
        patch_sizes=[7, 3, 3, 3],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3),
        mlp_ratio=4,
        qkv_bias=True,
        drop_rate=0.0,
        attn_drop_rate=0.0,
        drop_path_rate=0.1,
        # SegFormer's ImageNet-1k mit_b5.pth converted to mmseg's key layout with the official
        # converter, run from an mmsegmentation source checkout:
        #   python tools/model_converters/mit2mmseg.py mit_b5.pth pretrained/mit_b5.pth
        init_cfg=dict(type='Pretrained', checkpoint='pretrained/mit_b5.pth')),
    decode_head=dict(
        type='DAFormerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=256,
        embed_dims=256,
        fusion_type='sepaspp',
        fusion_dilations=(1, 6, 12, 18),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
