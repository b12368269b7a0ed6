# SDCA's stages, GTA5 -> Cityscapes (SDCA Alg. 1, §3.3, §4.1.3), e.g. on 4 GPUs:
#   python tools/train_pipeline.py configs/sdca/pipeline_gta2cs.py --work-dir work_dirs/sdca_gta2cs \
#       --gpus 4
# 1  source-only warm-up, CE + 0.75 Lovasz (stages/gta2cs_1_source.py);
# 2  SDCA adaptation (gta2cs.py) from stage 1; the class statistics are initialised by a pass over
#    GTA5 with that network before its first iteration (ClassStatisticsInitHook: Alg. 1 line 2);
# 3  offline pseudo-labels with per-class median thresholds (tools/pseudo_label.py, stage 2's network);
# 4  self-training on them (stages/gta2cs_4_self_training.py), re-initialised from ImageNet as the
#    authors' code; the paper's "fine-tune" is init=['2_sdca'].
# Report stage 4's last checkpoint (DIR/4_self_training/final.pth), not the best on Cityscapes val,
# which is this protocol's test set.
stages = [
    dict(name='1_source', config='{{ fileDirname }}/stages/gta2cs_1_source.py'),
    dict(name='2_sdca', config='{{ fileDirname }}/gta2cs.py', init=['1_source']),
    dict(name='3_pseudo_labels', tool='pseudo_label',
         config='{{ fileDirname }}/stages/gta2cs_3_pseudo_labels.py', init=['2_sdca']),
    dict(name='4_self_training', config='{{ fileDirname }}/stages/gta2cs_4_self_training.py',
         cfg_options={'train_dataloader.dataset.data_prefix.seg_map_path':
                      '{work_dir}/3_pseudo_labels/labels'}),
]
