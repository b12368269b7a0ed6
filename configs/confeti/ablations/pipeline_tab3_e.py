# CONFETI ablation, Table 3 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): row E (two-stage
# pixel alignment), 59.0 mIoU: stage 0 CUT, stage 1 = row D, stage 2 = row D's generator frozen.
# CONFETI's own row (62.2) is ../pipeline_gta2cs.py.
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/../cut_gta2cs.py'),
    dict(name='1_joint', config='{{ fileDirname }}/tab3_d_pixel_align.py', init=['0_cut']),
    dict(name='2_retrain', config='{{ fileDirname }}/tab3_e_stage2.py',
         init=['1_joint:generator.']),
]
