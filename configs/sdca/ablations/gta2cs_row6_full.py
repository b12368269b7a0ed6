# SDCA Table 6 (GTA5 -> Cityscapes, R101), row "Ours (full)" (52.9 mIoU): all four stages (../pipeline_gta2cs.py).
#   python tools/train_pipeline.py configs/sdca/ablations/gta2cs_row6_full.py \
#       --work-dir work_dirs/sdca_gta2cs_full
_base_ = ['../pipeline_gta2cs.py']
