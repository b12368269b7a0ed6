# CLDA Table 3, row 1 (37.6 mIoU): no transfer, no contrastive pre-training, no self-training, no
# label expansion. The paper does not say what row 1 trains (ambiguity A8); we read it as the
# source-only model: stage 1a on the untranslated source. Rows 1-4 end before stage 2, the
# self-training that carries the "contrast" column (their mIoU fits a model without it).
#   python tools/train_pipeline.py configs/clda/ablations/row1_baseline.py --work-dir DIR --gpus 8
stages = [dict(name='1a_source', config='../stages/gta2cs_1a_source_untranslated.py')]
