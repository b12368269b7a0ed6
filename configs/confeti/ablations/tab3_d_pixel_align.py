# CONFETI ablation, Table 3 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): row D, 59.0 mIoU:
# pixel alignment only: CUT trained jointly with L_SC, one stage, no L_PCL / L_Reg. The prototypes
# (and the CAM head that weights them) stay on: L_SC needs them (our reading). Start
# from stage 0 with pipeline_tab3_e.py --until 1_joint, or set model.cut_checkpoint.
_base_ = ['../gta2cs.py']
model = dict(pcl=dict(weight=0.0, target=False), regularizer=dict(weight=0.0))
