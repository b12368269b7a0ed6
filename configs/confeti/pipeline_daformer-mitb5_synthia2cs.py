# CONFETI's stages on DAFormer (MiT-B5), SYNTHIA -> Cityscapes: as pipeline_synthia2cs.py.
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/cut_synthia2cs.py'),
    dict(name='1_joint', config='{{ fileDirname }}/confeti_daformer-mitb5_synthia2cs.py', init=['0_cut']),
    dict(name='2_retrain', config='{{ fileDirname }}/confeti_daformer-mitb5_synthia2cs_stage2.py',
         init=['1_joint:generator.']),
]
