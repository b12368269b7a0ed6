# T2S-DA alignment objective (T2S-DA §4.2), DAFormer MiT-B5: L_pull as the MSE ||q - k+||^2 of the
# normalised query and source prototype (no negatives) instead of InfoNCE. Reference: 69.4 mIoU
# (InfoNCE 70.0, none 68.3).
_base_ = ['../t2sda_daformer-mitb5_gta2cs.py']
model = dict(pull=dict(loss='mse'))
