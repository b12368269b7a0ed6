# SDCA Table 5 (SYNTHIA -> Cityscapes, R101), row "Ours (feat. only)" (43.5 mIoU16): the adaptation stage with L_feat only (no L_out),
# from the row-2 warm-up (load_from).
_base_ = ['../synthia2cs.py']
model = dict(output_contrast=None)
