# SDCA's contrast on DACS (sdca_dacs) + MIC's masked image consistency (configs/_base_/uda/mic.py), GTA5 -> Cityscapes: the method
# config configs/sdca/sdca_dacs_gta2cs.py unchanged, with the MIC loss added to its DACS iteration. No published
# result: MIC (Hoyer et al., CVPR 2023) reports it on DAFormer/HRDA and other self-training methods.
# Protocol: the method's own (see its config) plus MIC's values (§4.1).
_base_ = ['../sdca/sdca_dacs_gta2cs.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency}})
