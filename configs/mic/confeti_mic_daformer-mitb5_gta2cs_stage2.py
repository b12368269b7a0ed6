# CONFETI stage 2 on DAFormer (MiT-B5) + MIC, GTA5 -> Cityscapes: configs/confeti/
# confeti_daformer-mitb5_gta2cs_stage2.py (segmenter retrained with stage 1's generator frozen) with the
# MIC loss (configs/_base_/uda/mic.py). Protocol: CONFETI's (§3.2.3, §4.1) plus MIC's values (§4.1).
_base_ = ['../confeti/confeti_daformer-mitb5_gta2cs_stage2.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency}})
