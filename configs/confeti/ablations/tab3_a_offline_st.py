# CONFETI ablation, Table 3 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): row A, 57.1 mIoU: the
# baseline on sources stylised by the stage-0 CUT, frozen ("offline ST"; no joint training, no
# L_PCL). The generator: stage 0 of pipeline_gta2cs.py (set model.cut_checkpoint to move it).
_base_ = ['../gta2cs_stage2.py']
model = dict(pcl=dict(weight=0.0, target=False), regularizer=dict(weight=0.0),
             cam_loss=dict(weight=0.0), cut_checkpoint='work_dirs/confeti_gta2cs/0_cut/final.pth')
