# CamVid day->dusk benchmark, baseline `source_only_aug`: `source_only` with photometric augmentation
# of the day frames (`source_aug_pipeline`: brightness, contrast, saturation, hue, blur). This is also
# the warm start of every UDA method in the benchmark (SDCA/ProDA-style), cached per seed by config hash.
_base_ = ['./source_only.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.source_aug_pipeline}}))
