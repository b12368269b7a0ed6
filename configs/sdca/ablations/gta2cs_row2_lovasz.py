# SDCA Table 6 (GTA5 -> Cityscapes, R101), row "+ L_lov" (40.7 mIoU): the warm-up with CE + 0.75 Lovasz (stage 1 of the pipeline).
_base_ = ['../stages/gta2cs_1_source.py']
