# T2S-DA Table S4 (CNN, GTA5 -> Cityscapes; rows as we decode them), row 1, the baseline
# (56.3 ± 0.4): no L_pull, i.e. DACS with DAFormer's strategies (configs/dacs/gta2cs.py).
# Not provided as configs: Table 4 / S3's "source -> target" (target positives) and "p. target ->
# source" with the CE on the pseudo-target; T2SDA has no switch for target keys or CE on T(x_s).
_base_ = ['../gta2cs.py']
model = dict(pull=None)
