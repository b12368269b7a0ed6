# CLDA Table 3, row 3 (50.1 mIoU), second reading: row3_transfer_pretrain.py followed by stage 2
# without the contrast and without label expansion, so that row 3 -> row 6 (+7.8) is the contrast
# alone (see README.md).
#   python tools/train_pipeline.py configs/clda/ablations/row3_transfer_pretrain_self_training.py \
#       --work-dir DIR --gpus 8
stages = [
    dict(name='1a_source', config='../stages/gta2cs_1a_source.py'),
    dict(name='1b_contrast', config='../stages/gta2cs_1b_contrast.py', init=['1a_source']),
    dict(name='1c_head', config='../stages/gta2cs_1c_head.py', init=['1b_contrast']),
    dict(name='2_self_training', config='../stages/gta2cs_2_self_training_no_contrast.py',
         init=['1c_head', '1b_contrast:projection_head.'],
         cfg_options={'model.label_expansion': None}),
]
