# SDCA Table 5 (SYNTHIA -> Cityscapes, R101), row "Ours (multi-level)" (46.6 mIoU16): the adaptation stage, L_feat + L_out, from the row-2
# warm-up (load_from): configs/sdca/synthia2cs.py.
_base_ = ['../synthia2cs.py']
