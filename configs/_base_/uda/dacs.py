# DACS self-training (Tranheden et al., WACV 2021) as configured by DAFormer (Hoyer et al., CVPR 2022,
# §3.1 and §4.1 with its released code): EMA teacher α=0.999 with the DACS ramp, teacher BN in train
# mode, pseudo-label confidence weight at τ=0.968 over the whole batch, the pseudo-label crop (15 top /
# 120 bottom rows), ClassMix with the candidate classes drawn from the whole source batch
# (mix_scope='batch', DAFormer's code; DACS draws them per image: mix_scope='image'), colour jitter
# s=0.2 applied when u>0.2 + Gaussian blur, and the thing-class ImageNet feature distance λ=0.005
# (DAFormer §3.3). A method config adds the network with `model = dict(segmentor={{_base_.segmentor}})`
# (model bases define `segmentor`); a config that follows DACS's own protocol overrides α, s and
# mix_scope (configs/_base_/uda/rccr.py).
model = dict(
    type='DACS',
    segmentor=dict(),  # the network, from a model base
    ema=dict(alpha=0.999, buffers='keep'),
    teacher_bn='train',
    predict_on='student',
    pseudo_threshold=0.968,
    pseudo_weight_scope='batch',
    pseudo_weight_ignore_top=15,
    pseudo_weight_ignore_bottom=120,
    mix_scope='batch',
    strong_aug=dict(color_jitter_strength=0.2, color_jitter_prob=0.2, blur=True),
    mix_loss_weight=1.0,
    imnet_feature_dist=dict(lambda_=0.005, scale_min_ratio=0.75),
)
