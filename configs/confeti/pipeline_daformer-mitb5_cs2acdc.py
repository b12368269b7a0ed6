# CONFETI's stages on DAFormer (MiT-B5), Cityscapes -> ACDC, as pipeline_daformer-mitb5_gta2cs.py:
#   python tools/train_pipeline.py configs/confeti/pipeline_daformer-mitb5_cs2acdc.py \
#       --work-dir work_dirs/confeti_daformer-mitb5_cs2acdc
# Stages: 0 CUT trained alone (cut_cs2acdc.py); 1 joint training from stage 0's networks;
# 2 the segmenter retrained with stage 1's generator frozen (report DIR/2_retrain/final.pth).
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/cut_cs2acdc.py'),
    dict(name='1_joint', config='{{ fileDirname }}/confeti_daformer-mitb5_cs2acdc.py',
         init=['0_cut']),
    dict(name='2_retrain', config='{{ fileDirname }}/confeti_daformer-mitb5_cs2acdc_stage2.py',
         init=['1_joint:generator.']),
]
