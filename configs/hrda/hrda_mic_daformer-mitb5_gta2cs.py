# HRDA + MIC on DAFormer (MiT-B5), GTA5 -> Cityscapes: hrda_daformer-mitb5_gta2cs.py plus masked image
# consistency (configs/_base_/uda/mic.py) on the full-resolution target crops. Reference: 75.9 mIoU
# (MIC Table 1, HRDA + MIC). Protocol: MIC's (Hoyer et al., CVPR 2023, §4.1) on HRDA's.
_base_ = ['./hrda_daformer-mitb5_gta2cs.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency}})
