# CPU-sized DAFormer for the HRDA benchmark: the DAFormer base with a one-block-per-stage MiT at a
# quarter of MiT-B0's width (16/32/80/128 channels), a 64-channel head, 7 toy_shift classes, random
# init, 64x64 crops of the images downscaled by 0.5 (DAFormer's 512x512 crops, divided by 8).
_base_ = ['../../../_base_/models/daformer_sepaspp_mitb5.py']
segmentor = dict(
    data_preprocessor=dict(size=(64, 64)),
    backbone=dict(embed_dims=16, num_layers=[1, 1, 1, 1], init_cfg=None),
    decode_head=dict(in_channels=[16, 32, 80, 128], embed_dims=64, channels=64, num_classes=7))
