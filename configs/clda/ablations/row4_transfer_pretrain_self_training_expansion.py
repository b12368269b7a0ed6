# CLDA Table 3, row 4 (51.9 mIoU), second reading: stage 2 without the contrast but with label
# expansion (row 3's second reading + expansion), so that row 4 -> row 7 (+8.3) is the contrast
# alone and row 3 -> row 4 (+1.8) is expansion in self-training (see README.md).
#   python tools/train_pipeline.py \
#       configs/clda/ablations/row4_transfer_pretrain_self_training_expansion.py --work-dir DIR \
#       --gpus 8
stages = [
    dict(name='1a_source', config='../stages/gta2cs_1a_source.py'),
    dict(name='1b_contrast', config='../stages/gta2cs_1b_contrast.py', init=['1a_source']),
    dict(name='1c_head', config='../stages/gta2cs_1c_head.py', init=['1b_contrast']),
    dict(name='2_self_training', config='../stages/gta2cs_2_self_training_no_contrast.py',
         init=['1c_head', '1b_contrast:projection_head.']),
]
