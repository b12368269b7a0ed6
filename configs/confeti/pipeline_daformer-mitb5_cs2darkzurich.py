# CONFETI's stages on DAFormer (MiT-B5), Cityscapes -> Dark Zurich, as
# pipeline_daformer-mitb5_gta2cs.py:
#   python tools/train_pipeline.py configs/confeti/pipeline_daformer-mitb5_cs2darkzurich.py \
#       --work-dir work_dirs/confeti_daformer-mitb5_cs2darkzurich
# Stages: 0 CUT trained alone (cut_cs2darkzurich.py); 1 joint training from stage 0's networks;
# 2 the segmenter retrained with stage 1's generator frozen (report DIR/2_retrain/final.pth).
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/cut_cs2darkzurich.py'),
    dict(name='1_joint', config='{{ fileDirname }}/confeti_daformer-mitb5_cs2darkzurich.py',
         init=['0_cut']),
    dict(name='2_retrain',
         config='{{ fileDirname }}/confeti_daformer-mitb5_cs2darkzurich_stage2.py',
         init=['1_joint:generator.']),
]
