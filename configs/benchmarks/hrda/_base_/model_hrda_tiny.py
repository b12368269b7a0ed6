# CPU-sized HRDA for the HRDA benchmark: the HRDA base around the tiny DAFormer of
# model_daformer_tiny.py, every size of HRDA's divided by 8: 128x128 full-resolution context crops
# (64x64 at scale 0.5), 64x64 detail crops, test windows 128x128 at stride 64 with detail crops
# sliding at stride 32.
_base_ = ['../../../_base_/models/hrda_daformer_sepaspp_mitb5.py']
segmentor = dict(
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(embed_dims=16, num_layers=[1, 1, 1, 1], init_cfg=None),
    decode_head=dict(
        head=dict(in_channels=[16, 32, 80, 128], embed_dims=64, channels=64, num_classes=7)),
    detail_crop_size=(64, 64),
    detail_slide_stride=(32, 32),
    test_cfg=dict(crop_size=(128, 128), stride=(64, 64)))
