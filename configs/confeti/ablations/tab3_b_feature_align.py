# CONFETI ablation, Table 3 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): row B, 60.0 mIoU:
# feature alignment only: CAM-weighted mixed prototypes and L_PCL (+ L_Reg, target term) on the raw
# source, no stylisation.
_base_ = ['../gta2cs_stage2.py']
model = dict(style=None, pcl=dict(target=True))
