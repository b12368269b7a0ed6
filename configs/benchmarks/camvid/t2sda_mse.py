# CamVid day->dusk benchmark, `t2sda_mse`: the `t2sda` row with the MSE objective (queries pulled
# to their class's source prototype, no negatives; the paper's Sec. 4.2 alternative) instead of
# InfoNCE.
_base_ = ['./t2sda.py']
model = dict(pull=dict(loss='mse'))
