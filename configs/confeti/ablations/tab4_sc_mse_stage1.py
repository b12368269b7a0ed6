# CONFETI ablation, Table 4 (GTA5 -> Cityscapes, DeepLabV2, 640x640, 80k): "MSE", 61.6 mIoU, stage 1:
# L_SC replaced by a direct feature MSE 0.1 * ||phi(g(f(G(X^S)))) - g(f(X^S))||^2 (the table's
# "MSE" is not defined, we take one reading); stage 2: pipeline_tab4_sc_mse.py.
_base_ = ['../gta2cs.py']
model = dict(consistency=dict(type='feature_mse'))
