# SDCA stage 3: offline pseudo-labels of the Cityscapes train images (tools/pseudo_label.py with the
# adapted network of stage 2): per-class thresholds = the median confidence of the pixels predicted
# as the class, capped at 0.9 [CODE] (Eq. 19, §3.3), from whole images at 1024x512, single scale.
_base_ = ['../synthia2cs.py', '../_base_/cityscapes_pseudo_label.py']
