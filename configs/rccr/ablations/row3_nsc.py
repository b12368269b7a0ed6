# RCCR Table 3, row III (56.0): + category-aware negative sampling NS(C).
_base_ = ['./row2_nsr.py']
model = dict(region_contrast=dict(class_aware=True))
