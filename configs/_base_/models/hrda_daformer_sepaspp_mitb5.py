# HRDA (Hoyer et al., ECCV 2022) around DAFormer (MiT-B5 + sep-ASPP fusion head). The data
# pipeline cuts a 1024x1024 full-resolution context crop; the network sees it at scale 0.5
# (512x512, low resolution) and a random 512x512 detail crop of it at full resolution
# (coordinates multiples of 8), with one shared encoder and head and a class-wise scale attention
# (the DAFormer head with a 1x1 conv fusion) on the context; loss 0.9 * CE(fused) + 0.1 *
# CE(detail). Test: 1024x1024 context windows at stride 512 over the full image, each with
# 512x512 detail crops sliding at stride 256 (HRDA's test).
# Keys follow HRDA's released ones: decode_head.head.* and decode_head.scale_attention.*.
_base_ = ['./daformer_sepaspp_mitb5.py']
segmentor = dict(
    type='HRDAEncoderDecoder',
    data_preprocessor=dict(size=(1024, 1024)),  # the full-resolution context crops
    decode_head=dict(
        _delete_=True,
        type='HRDAHead',
        head={{_base_.segmentor.decode_head}},
        attention=None,  # derived: the head with fusion_type='conv', C maps (attention_classwise)
        attention_classwise=True,
        hr_loss_weight=0.1,  # lambda_d
        fixed_attention=None),  # a constant instead of the learned attention (ablation)
    context_scale=0.5,
    detail_crop_size=(512, 512),
    crop_coord_divisible=8,
    detail_slide_stride=(256, 256),
    test_cfg=dict(mode='slide', crop_size=(1024, 1024), stride=(512, 512)))
