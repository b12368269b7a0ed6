# CLDA Table 3, row 2 (45.7 mIoU): transfer (stage 0, FDA here) + stage 1a.
stages = [dict(name='1a_source', config='../stages/gta2cs_1a_source.py')]
