# CLDA Table 3, row 7 (60.2 mIoU): the full method, identical to configs/clda/pipeline_gta2cs.py.
stages = [
    dict(name='1a_source', config='../stages/gta2cs_1a_source.py'),
    dict(name='1b_contrast', config='../stages/gta2cs_1b_contrast.py', init=['1a_source']),
    dict(name='1c_head', config='../stages/gta2cs_1c_head.py', init=['1b_contrast']),
    dict(name='2_self_training', config='../gta2cs.py',
         init=['1c_head', '1b_contrast:projection_head.']),
]
