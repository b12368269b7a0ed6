# CONFETI's stages on DAFormer (MiT-B5), GTA5 -> Cityscapes: as pipeline_gta2cs.py.
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/cut_gta2cs.py'),
    dict(name='1_joint', config='{{ fileDirname }}/confeti_daformer-mitb5_gta2cs.py', init=['0_cut']),
    dict(name='2_retrain', config='{{ fileDirname }}/confeti_daformer-mitb5_gta2cs_stage2.py',
         init=['1_joint:generator.']),
]
