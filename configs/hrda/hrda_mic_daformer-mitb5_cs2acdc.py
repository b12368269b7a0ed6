# HRDA + MIC on DAFormer (MiT-B5), Cityscapes -> ACDC: hrda_daformer-mitb5_cs2acdc.py plus masked
# image consistency in MIC's mode for this target (configs/_base_/uda/mic.py,
# masked_consistency_adverse: one source and one target image of each batch are masked, without
# colour augmentation). Reference: 70.4 mIoU on ACDC test (MIC Table 2).
# Protocol: MIC's (Hoyer et al., CVPR 2023, §4.1, and its released Cityscapes -> ACDC / Dark Zurich
# settings) on HRDA's.
_base_ = ['./hrda_daformer-mitb5_cs2acdc.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency_adverse}})
