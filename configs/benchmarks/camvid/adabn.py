# CamVid day->dusk benchmark, baseline `adabn` (Li et al., AdaBN, 2016): the `source_only_aug` model with
# its BatchNorm statistics re-estimated on the unlabelled dusk frames (`adabn_dataloader` of the data
# base), no gradient step: tools/adabn.py CONFIG SOURCE_ONLY_AUG_CKPT OUT.pth.
_base_ = ['./source_only_aug.py']
benchmark = dict(adabn_of='source_only_aug')  # read by benchmarks/camvid_day2dusk.py
