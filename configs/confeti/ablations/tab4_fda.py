# CONFETI ablation, Table 4 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): FDA instead of CUT, 60.5 mIoU:
# every source image gets the low-frequency amplitude of its paired target crop (FDA, beta 0.09 as
# the authors' FDA path) instead of the CUT stylisation; L_PCL kept; one stage (FDA has nothing to
# train or freeze). FDA is applied to raw pixels (the code: to ImageNet-normalised tensors).
_base_ = ['../gta2cs_stage2.py']
model = dict(style=dict(_delete_=True, type='FDA', beta=0.09), pcl=dict(target=True))
