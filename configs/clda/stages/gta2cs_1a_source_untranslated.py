# CLDA stage 1a without stage 0 (ablation "transfer" off, Table 3 rows 1 and 5): the source as it is.
_base_ = ['./gta2cs_1a_source.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.source_train_pipeline}}))
