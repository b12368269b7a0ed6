# SDCA's stages, SYNTHIA -> Cityscapes (SDCA Alg. 1, §3.3, §4.1.3), e.g. on 4 GPUs:
#   python tools/train_pipeline.py configs/sdca/pipeline_synthia2cs.py --work-dir work_dirs/sdca_synthia2cs \
#       --gpus 4
# 1  source-only warm-up, CE + 0.75 Lovasz (stages/synthia2cs_1_source.py);
# 2  SDCA adaptation (synthia2cs.py) from stage 1; the class statistics are initialised by a pass over
#    SYNTHIA with that network before its first iteration (ClassStatisticsInitHook: Alg. 1 line 2);
# 3  offline pseudo-labels with per-class median thresholds (tools/pseudo_label.py, stage 2's network);
# 4  self-training on them (stages/synthia2cs_4_self_training.py), re-initialised from ImageNet as the
#    authors' code; the paper's "fine-tune" is init=['2_sdca'].
# Report stage 4's last checkpoint (DIR/4_self_training/final.pth), not the best on Cityscapes val,
# which is this protocol's test set.
stages = [
    dict(name='1_source', config='{{ fileDirname }}/stages/synthia2cs_1_source.py'),
    dict(name='2_sdca', config='{{ fileDirname }}/synthia2cs.py', init=['1_source']),
    dict(name='3_pseudo_labels', tool='pseudo_label',
         config='{{ fileDirname }}/stages/synthia2cs_3_pseudo_labels.py', init=['2_sdca']),
    dict(name='4_self_training', config='{{ fileDirname }}/stages/synthia2cs_4_self_training.py',
         cfg_options={'train_dataloader.dataset.data_prefix.seg_map_path':
                      '{work_dir}/3_pseudo_labels/labels'}),
]
