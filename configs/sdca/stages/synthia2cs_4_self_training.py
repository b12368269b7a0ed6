# SDCA stage 4, SYNTHIA -> Cityscapes: self-training on the stage-3 pseudo-labels, as
# gta2cs_4_self_training.py (same network, data, schedule [CODE]). The model stays 19-way (the
# project's SYNTHIA convention; the code's model is 16-way): classes SYNTHIA lacks are rarely
# predicted, hence rarely pseudo-labelled. mIoU over the 16 SYNTHIA classes and the 13 of mIoU*
# [PAPER §4.1.2]; the best checkpoint by mIoU16 is kept [CODE: the 16-class model's mIoU], the
# last one is reported.
_base_ = ['./gta2cs_4_self_training.py']
train_dataloader = dict(
    dataset=dict(data_prefix=dict(
        # Placeholder: the SDCA pipeline sets this to '{work_dir}/3_pseudo_labels/labels'.
        seg_map_path='work_dirs/sdca_synthia2cs/3_pseudo_labels/labels')))
val_evaluator = dict(
    type='UDAIoUMetric',
    iou_metrics=['mIoU'],
    class_subsets=dict(mIoU16=[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18],
                       mIoU13=[0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]))
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))
