# CLDA Table 3, row 3 (50.1 mIoU): transfer + contrastive pre-training (stages 0, 1a, 1b, 1c).
stages = [
    dict(name='1a_source', config='../stages/gta2cs_1a_source.py'),
    dict(name='1b_contrast', config='../stages/gta2cs_1b_contrast.py', init=['1a_source']),
    dict(name='1c_head', config='../stages/gta2cs_1c_head.py', init=['1b_contrast']),
]
