# MIC on DAFormer (MiT-B5 + context-aware fusion decoder), GTA5 -> Cityscapes: DAFormer's
# self-training, data and schedule (configs/dacs/dacs_daformer-mitb5_gta2cs.py) plus masked image
# consistency (configs/_base_/uda/mic.py). Reference: 70.6 mIoU (MIC Table 1, DAFormer + MIC).
# Protocol: MIC's (Hoyer et al., CVPR 2023, §4.1: DAFormer's training with the MIC loss added).
_base_ = ['../dacs/dacs_daformer-mitb5_gta2cs.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency}})
