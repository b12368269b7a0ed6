# SDCA Table 5 (SYNTHIA -> Cityscapes, R101), row "L_lov + L_ssl" (40.4 mIoU16): self-training on the pseudo-labels of the source-only
# (+ Lovasz) network, no adaptation stage.
#   python tools/train_pipeline.py configs/sdca/ablations/synthia2cs_row3_lovasz_self_training.py \
#       --work-dir work_dirs/sdca_synthia2cs_row3
stages = [
    dict(name='1_source', config='../stages/synthia2cs_1_source.py'),
    dict(name='3_pseudo_labels', tool='pseudo_label',
         config='../stages/synthia2cs_3_pseudo_labels.py', init=['1_source']),
    dict(name='4_self_training', config='../stages/synthia2cs_4_self_training.py',
         cfg_options={'train_dataloader.dataset.data_prefix.seg_map_path':
                      '{work_dir}/3_pseudo_labels/labels'}),
]
