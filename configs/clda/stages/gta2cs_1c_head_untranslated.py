# CLDA stage 1c without stage 0 (ablation "transfer" off, Table 3 row 5): the source as it is.
_base_ = ['./gta2cs_1c_head.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.source_train_pipeline}}))
