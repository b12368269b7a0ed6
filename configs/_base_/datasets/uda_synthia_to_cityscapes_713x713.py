# SYNTHIA-RAND-CITYSCAPES -> Cityscapes with CLDA's protocol (uda_gta_to_cityscapes_713x713.py):
# SYNTHIA at its original 1280x760, 713x713 crops; 16- and 13-class mIoU as
# uda_synthia_to_cityscapes_512x512.py.
_base_ = ['./uda_gta_to_cityscapes_713x713.py']
source = dict(type='SynthiaDataset', data_root='data/synthia',
              data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
              pipeline={{_base_.source_train_pipeline}})
translated_source = dict(source, pipeline={{_base_.translated_source_pipeline}})
train_dataloader = dict(dataset=dict(source=source))
val_evaluator = dict(
    type='UDAIoUMetric',
    iou_metrics=['mIoU'],
    class_subsets=dict(mIoU16=[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18],
                       mIoU13=[0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18]))
test_evaluator = val_evaluator
