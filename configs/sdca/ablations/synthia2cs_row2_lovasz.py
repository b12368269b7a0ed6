# SDCA Table 5 (SYNTHIA -> Cityscapes, R101), row "+ L_lov" (35.9 mIoU16): the warm-up with CE + 0.75 Lovasz (stage 1 of the pipeline).
_base_ = ['../stages/synthia2cs_1_source.py']
