# CONFETI ablation, Table 3 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): row C, 57.6 mIoU:
# row A (frozen stage-0 CUT) with L_PCL (+ L_Reg, target term).
_base_ = ['../gta2cs_stage2.py']
model = dict(pcl=dict(target=True), cut_checkpoint='work_dirs/confeti_gta2cs/0_cut/final.pth')
