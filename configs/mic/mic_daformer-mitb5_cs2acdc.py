# MIC on DAFormer (MiT-B5), Cityscapes -> ACDC: configs/dacs/dacs_daformer-mitb5_cs2acdc.py
# plus masked image consistency in MIC's mode for this target (configs/_base_/uda/mic.py,
# masked_consistency_adverse: one source and one target image of each batch are masked, without
# colour augmentation).
# Protocol: MIC's (Hoyer et al., CVPR 2023, §4.1, and its released Cityscapes -> ACDC / Dark Zurich
# settings) on DAFormer's data for this target. MIC's released configs for the adverse targets also
# drop the pseudo-label crop (no rectification border there; they run on HRDA, see
# configs/hrda/hrda_mic_daformer-mitb5_cs2acdc.py); this one keeps the DAFormer config's crop, so
# that it differs from the DAFormer row by the MIC loss alone.
_base_ = ['../dacs/dacs_daformer-mitb5_cs2acdc.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency_adverse}})
