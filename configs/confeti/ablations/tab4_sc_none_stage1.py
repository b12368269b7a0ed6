# CONFETI ablation, Table 4 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): "w/o L_SC", 58.0 mIoU,
# stage 1: CUT trained jointly without the semantic-consistency loss (stage 2: pipeline_tab4_sc_none.py).
_base_ = ['../gta2cs.py']
model = dict(consistency=None)
