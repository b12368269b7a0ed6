# MIC on DAFormer (MiT-B5), Cityscapes -> Dark Zurich: configs/dacs/dacs_daformer-mitb5_cs2darkzurich.py
# plus masked image consistency (configs/_base_/uda/mic.py).
# Protocol: MIC's (Hoyer et al., CVPR 2023, §4.1) on DAFormer's data for this target. MIC's released
# configs for the adverse targets drop the pseudo-label crop (no rectification border there); this one
# keeps the DAFormer config's crop, so that it differs from the DAFormer row by the MIC loss alone.
_base_ = ['../dacs/dacs_daformer-mitb5_cs2darkzurich.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency}})
