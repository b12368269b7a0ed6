# RCCR Table 3, baseline (54.8 mIoU13, SYNTHIA -> Cityscapes): no region contrast, i.e. DACS with
# RCCR's settings.
_base_ = ['../synthia2cs.py']
model = dict(region_contrast=None)
