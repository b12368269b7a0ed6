# CLDA Table 3, row 5 (57.5 mIoU): the full method without transfer (stages 1a and 1c on the
# untranslated source).
stages = [
    dict(name='1a_source', config='../stages/gta2cs_1a_source_untranslated.py'),
    dict(name='1b_contrast', config='../stages/gta2cs_1b_contrast.py', init=['1a_source']),
    dict(name='1c_head', config='../stages/gta2cs_1c_head_untranslated.py', init=['1b_contrast']),
    dict(name='2_self_training', config='../gta2cs.py',
         init=['1c_head', '1b_contrast:projection_head.']),
]
