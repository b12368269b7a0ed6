# Cityscapes (labelled source) -> Dark Zurich night (unlabelled target), DAFormer's data protocol:
# uda_cityscapes_to_acdc_512x512.py (Cityscapes source, pipelines, RCS, loaders) with Dark Zurich in
# place of ACDC. Source: lhoyer/DAFormer configs/_base_/datasets/uda_cityscapes_to_darkzurich_512x512.py
# (pipelines, data, batch 2). DAFormer released no Cityscapes -> Dark Zurich training config (only a
# checkpoint); UNSPECIFIED -> our choice: the rest as its Cityscapes -> ACDC config (RCS T 0.01 /
# 3000 / 0.5, the method's self-training with the 15/120 pseudo-label crop, 40k iterations).
# - target: Dark Zurich train, night only (2416 images, 1920x1080, no labels; DAFormer's
#   rgb_anon/train/night), resized to 960x540, 512x512 crops, flips;
# - validation: Dark Zurich val (50 night images) at 960x540, scored against the full-resolution
#   labels. The papers report the test split (151 night images, labels withheld: the benchmark
#   server), `test_split_dataloader`; DAFormer's README warns that val and test scores differ a lot.
_base_ = ['./uda_cityscapes_to_acdc_512x512.py']
dark_zurich = dict(type='DarkZurichUDADataset', data_root='data/dark_zurich', conditions=('night', ))
target = dark_zurich
train_dataloader = dict(dataset=dict(target=dark_zurich))
val_dataloader = dict(dataset=dark_zurich)
test_dataloader = val_dataloader
test_split_dataloader = dict(dataset=dark_zurich)
