# SDCA Table 5 (SYNTHIA -> Cityscapes, R101), row "Source Only" (33.5 mIoU16): the warm-up with CE only (Eq. 17 as printed).
_base_ = ['../stages/synthia2cs_1_source.py']
model = dict(lovasz_weight=0)
