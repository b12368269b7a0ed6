# CONFETI's stages, GTA5 -> Cityscapes (CONFETI §3.2 and the authors' code), e.g. on 8 GPUs:
#   python tools/train_pipeline.py configs/confeti/pipeline_gta2cs.py --work-dir work_dirs/confeti_gta2cs \
#       --gpus 8
# 0  CUT trained alone (cut_gta2cs.py; implied by the authors' code);
# 1  joint training of the segmenter and CUT from stage 0's networks (gta2cs.py);
# 2  the segmenter retrained from ImageNet with stage 1's final generator frozen (gta2cs_stage2.py;
#    only `generator.*` carries over). Report stage 2's last checkpoint
#    (DIR/2_retrain/final.pth), not the best on Cityscapes val, which is this protocol's test set.
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/cut_gta2cs.py'),
    dict(name='1_joint', config='{{ fileDirname }}/gta2cs.py', init=['0_cut']),
    dict(name='2_retrain', config='{{ fileDirname }}/gta2cs_stage2.py',
         init=['1_joint:generator.']),
]
