# T2S-DA Table S4, row 2 (56.9 ± 0.6): no L_pull; DRW on L_target instead, the mixed image's target
# pixels weighted by C * w*_y (y the teacher's pseudo-label).
_base_ = ['../gta2cs.py']
model = dict(pull=None, reweight_target=True)
