# SDCA Table 6 (GTA5 -> Cityscapes, R101), row "Ours (feat. only)" (46.7 mIoU): the adaptation stage with L_feat only (no L_out),
# from the row-2 warm-up (load_from).
_base_ = ['../gta2cs.py']
model = dict(output_contrast=None)
