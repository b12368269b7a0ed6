# SDCA Table 5 (SYNTHIA -> Cityscapes, R101), row "Ours (full)" (50.2 mIoU16): all four stages (../pipeline_synthia2cs.py).
#   python tools/train_pipeline.py configs/sdca/ablations/synthia2cs_row6_full.py \
#       --work-dir work_dirs/sdca_synthia2cs_full
_base_ = ['../pipeline_synthia2cs.py']
