# RCCR's network as DACS's code trains it (RCCR §4.1.2 "following [61]"): DeepLabV2 with all four
# ASPP branches on ResNetV1c-101 at output stride 8, ImageNet weights, and
# - BN affine parameters frozen (requires_grad=False, DACS's DeepLabV2), the statistics in train
#   mode (batch statistics, as DACS);
# - the source CE averaged over the labelled pixels (DACS's CrossEntropy2d with ignore 255), not
#   mmseg's mean over all pixels. The ClassMix loss stays DACS's mean over all pixels of w * CE
#   (UDABaseSegmentor.decode_losses with weights).
_base_ = ['../../_base_/models/deeplabv2_r101v1c.py']
segmentor = dict(
    backbone=dict(norm_cfg=dict(type='BN', requires_grad=False), norm_eval=False),
    decode_head=dict(loss_decode=dict(avg_non_ignore=True)))
