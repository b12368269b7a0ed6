# HRDA + MIC on DAFormer (MiT-B5), Cityscapes -> Dark Zurich: hrda_daformer-mitb5_cs2darkzurich.py plus masked
# image consistency in MIC's mode for this target (configs/_base_/uda/mic.py,
# masked_consistency_adverse: one source and one target image of each batch are masked, without
# colour augmentation). Reference: 60.2 mIoU on Dark Zurich test (MIC Table 2).
# Protocol: MIC's (Hoyer et al., CVPR 2023, §4.1, and its released Cityscapes -> ACDC / Dark Zurich
# settings) on HRDA's.
_base_ = ['./hrda_daformer-mitb5_cs2darkzurich.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency_adverse}})
