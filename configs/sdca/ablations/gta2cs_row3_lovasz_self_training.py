# SDCA Table 6 (GTA5 -> Cityscapes, R101), row "L_lov + L_ssl" (45.3 mIoU): self-training on the pseudo-labels of the source-only
# (+ Lovasz) network, no adaptation stage.
#   python tools/train_pipeline.py configs/sdca/ablations/gta2cs_row3_lovasz_self_training.py \
#       --work-dir work_dirs/sdca_gta2cs_row3
stages = [
    dict(name='1_source', config='../stages/gta2cs_1_source.py'),
    dict(name='3_pseudo_labels', tool='pseudo_label',
         config='../stages/gta2cs_3_pseudo_labels.py', init=['1_source']),
    dict(name='4_self_training', config='../stages/gta2cs_4_self_training.py',
         cfg_options={'train_dataloader.dataset.data_prefix.seg_map_path':
                      '{work_dir}/3_pseudo_labels/labels'}),
]
