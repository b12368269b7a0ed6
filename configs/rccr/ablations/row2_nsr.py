# RCCR Table 3, row II (55.6): + random negative sampling NS(R) (a random half per image).
_base_ = ['./row1_rwc.py']
model = dict(region_contrast=dict(random_half=True))
