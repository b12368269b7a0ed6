# CamVid day->dusk benchmark, `t2sda_lambda05`: the `t2sda` row with lambda = 0.5 (Table S6's
# largest but one) instead of 0.1: a loss-scale check, since t2sda with lambda 0.1 ends level with
# DACS on dusk.
_base_ = ['./t2sda.py']
model = dict(pull_weight=0.5)
