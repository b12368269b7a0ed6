# HRDA + MIC on DAFormer (MiT-B5), SYNTHIA -> Cityscapes: hrda_daformer-mitb5_synthia2cs.py plus masked
# image consistency (configs/_base_/uda/mic.py). Reference: 67.3 mIoU16 (MIC Table 1, HRDA + MIC).
# Protocol: MIC's (Hoyer et al., CVPR 2023, §4.1) on HRDA's.
_base_ = ['./hrda_daformer-mitb5_synthia2cs.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency}})
