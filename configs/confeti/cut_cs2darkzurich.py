# CONFETI stage 0 on Cityscapes -> Dark Zurich: the CUT translator (Cityscapes train -> Dark
# Zurich train night) trained alone, the generator that stage 1 starts from; CUT's values as
# cut_gta2cs.py (configs/confeti/_base_/cut_stage0.py). Not from the paper (our choice, as for
# GTA5): 40k iterations of batch 2 (~27 passes over Cityscapes' 2975 images) on the 512x512 crops
# of configs/_base_/datasets/uda_cityscapes_to_darkzurich_512x512.py, without rare-class sampling.
_base_ = ['../_base_/datasets/uda_cityscapes_to_darkzurich_512x512.py', './_base_/cut_stage0.py']
# paired loader without rare-class sampling: CUT only needs images
train_dataloader = dict(batch_size=2, dataset=dict(rare_class_sampling=None))
statistics_dataloader = None
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
test_split_dataloader = None
