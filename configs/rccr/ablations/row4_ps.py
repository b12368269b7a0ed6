# RCCR Table 3, row IV (56.3): + positive sampling PS (anchors where the teacher's confidence > 0.75).
_base_ = ['./row3_nsc.py']
model = dict(region_contrast=dict(confidence=0.75))
