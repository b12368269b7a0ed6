# CLDA's staged training, SYNTHIA -> Cityscapes (see pipeline_gta2cs.py):
#   python tools/train_pipeline.py configs/clda/pipeline_synthia2cs.py \
#       --work-dir work_dirs/clda_synthia2cs --gpus 8
# Report stage 2's last checkpoint (DIR/2_self_training/final.pth).
stages = [
    dict(name='1a_source', config='stages/synthia2cs_1a_source.py'),
    dict(name='1b_contrast', config='stages/synthia2cs_1b_contrast.py', init=['1a_source']),
    dict(name='1c_head', config='stages/synthia2cs_1c_head.py', init=['1b_contrast']),
    dict(name='2_self_training', config='synthia2cs.py',
         init=['1c_head', '1b_contrast:projection_head.']),
]
