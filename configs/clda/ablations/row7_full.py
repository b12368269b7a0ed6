# CLDA Table 3, row 7 (60.2 mIoU): the full method, configs/clda/pipeline_gta2cs.py.
_base_ = ['../pipeline_gta2cs.py']
