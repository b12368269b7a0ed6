# CONFETI ablation, Table 4 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): the stages of the
# consistency-loss variant tab4_sc_none_stage1.py (stage 2 is CONFETI's, ../gta2cs_stage2.py).
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/../cut_gta2cs.py'),
    dict(name='1_joint', config='{{ fileDirname }}/tab4_sc_none_stage1.py', init=['0_cut']),
    dict(name='2_retrain', config='{{ fileDirname }}/../gta2cs_stage2.py',
         init=['1_joint:generator.']),
]
