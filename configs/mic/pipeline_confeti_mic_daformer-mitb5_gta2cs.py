# CONFETI + MIC on DAFormer (MiT-B5), GTA5 -> Cityscapes, all stages:
#   python tools/train_pipeline.py configs/mic/pipeline_confeti_mic_daformer-mitb5_gta2cs.py
# 0: CUT alone (configs/confeti/cut_gta2cs.py); 1: joint CUT + segmenter with MIC; 2: the segmenter
# retrained with stage 1's generator frozen, with MIC. The report is stage 2's last checkpoint.
stages = [
    dict(name='0_cut', config='{{ fileDirname }}/../confeti/cut_gta2cs.py'),
    dict(name='1_joint', config='{{ fileDirname }}/confeti_mic_daformer-mitb5_gta2cs.py',
         init=['0_cut']),
    dict(name='2_retrain', config='{{ fileDirname }}/confeti_mic_daformer-mitb5_gta2cs_stage2.py',
         init=['1_joint:generator.']),
]
