# SDCA Table 6 (GTA5 -> Cityscapes, R101), row "Source Only" (38.6 mIoU): the warm-up with CE only (Eq. 17 as printed).
_base_ = ['../stages/gta2cs_1_source.py']
model = dict(lovasz_weight=0)
