# CONFETI on DAFormer (MiT-B5) + MIC's masked image consistency (configs/_base_/uda/mic.py), GTA5 ->
# Cityscapes, stage 1 (joint CUT + segmenter): configs/confeti/confeti_daformer-mitb5_gta2cs.py with
# the MIC loss added after CONFETI's steps 1-8 (the teacher's pseudo-labels of the clean target).
# Run the three stages with configs/mic/pipeline_confeti_mic_daformer-mitb5_gta2cs.py.
# Protocol: CONFETI's (§3.2, §4.1) plus MIC's values (§4.1). No published result.
_base_ = ['../confeti/confeti_daformer-mitb5_gta2cs.py', '../_base_/uda/mic.py']
model = dict(masked_consistency={{_base_.masked_consistency}})
