# CLDA stage 1a, SYNTHIA -> Cityscapes (see gta2cs_1a_source.py): supervised training on SYNTHIA
# translated to the Cityscapes style by FDA; 16- and 13-class mIoU.
_base_ = ['./gta2cs_1a_source.py']
train_dataloader = dict(
    dataset=dict(type='SynthiaDataset', data_root='data/synthia',
                 data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS')))
val_evaluator = dict(class_subsets=dict(
    mIoU16=[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18],
    mIoU13=[0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]))
test_evaluator = val_evaluator
