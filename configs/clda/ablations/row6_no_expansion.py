# CLDA Table 3, row 6 (57.9 mIoU): the full method without label expansion in self-training.
stages = [
    dict(name='1a_source', config='../stages/gta2cs_1a_source.py'),
    dict(name='1b_contrast', config='../stages/gta2cs_1b_contrast.py', init=['1a_source']),
    dict(name='1c_head', config='../stages/gta2cs_1c_head.py', init=['1b_contrast']),
    dict(name='2_self_training', config='../gta2cs.py',
         init=['1c_head', '1b_contrast:projection_head.'],
         cfg_options={'model.label_expansion': None}),
]
