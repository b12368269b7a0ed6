# T2S-DA alignment objective (T2S-DA §4.2), CNN: L_pull as the MSE ||q - k+||^2 of the normalised
# query and source prototype (no negatives) instead of InfoNCE. Reference: 58.6 mIoU (InfoNCE 60.4,
# none 56.3).
_base_ = ['../gta2cs.py']
model = dict(pull=dict(loss='mse'))
