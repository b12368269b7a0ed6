# CONFETI ablation, Table 3 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): "Baseline (Sec. 3.1)", 57.5 mIoU:
# the self-training alone (DACS + FD + RCS, batch-union ClassMix) on the raw source: no
# stylisation, no CAM head loss, no prototypes (nothing uses them), no L_PCL.
_base_ = ['../gta2cs_stage2.py']
model = dict(style=None, pcl=dict(weight=0.0, target=False), regularizer=dict(weight=0.0),
             cam_loss=dict(weight=0.0))
