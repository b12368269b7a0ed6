# SDCA Table 6 (GTA5 -> Cityscapes, R101), row "Ours (multi-level)" (48.4 mIoU): the adaptation stage, L_feat + L_out, from the row-2
# warm-up (load_from): configs/sdca/gta2cs.py.
_base_ = ['../gta2cs.py']
