# CONFETI ablation, Table 3 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): row E, 59.0 mIoU, stage 2:
# row D's generator frozen, the segmenter retrained from ImageNet without L_PCL (pipeline_tab3_e.py).
_base_ = ['../gta2cs_stage2.py']
model = dict(pcl=dict(weight=0.0, target=False), regularizer=dict(weight=0.0))
