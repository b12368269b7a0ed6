# Domain generalisation (paper §4.4, Table 3): T2S-DA on DAFormer MiT-B5 trained on SYNTHIA alone,
# evaluated on Cityscapes val (mIoU over 16 classes): as dg_daformer-mitb5_gta2cs.py (same
# SimCLR-style translation in place of Kundu et al.'s undescribed network), SYNTHIA resized to fit
# 1280x760. Reference: 44.5 ± 1.1 mIoU16 (DAFormer source-only baseline 42.4 ± 1.9, no config here).
# Protocol: T2S-DA §4.4 (source only; no ClassMix).
_base_ = ['./t2sda_daformer-mitb5_synthia2cs.py']
model = dict(
    target_free=True,
    class_weighting=dict(_delete_=True, type='uniform'),
    imnet_feature_dist=None,
    translation=[
        dict(type='PhotometricAug', color_jitter=(0.8, 0.8, 0.8, 0.2), jitter_prob=0.8,
             grayscale_prob=0.2, cutout_max=0),
        dict(type='StrongPhotometricAug', color_jitter_strength=0, blur=True,
             blur_sigma=(0.1, 2.0)),
    ])
train_dataloader = dict(
    dataset=dict(_delete_=True, type='SynthiaDataset', data_root='data/synthia',
                 data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
                 pipeline={{_base_.source_train_pipeline}}))
