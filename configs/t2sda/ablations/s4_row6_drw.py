# T2S-DA Table S4, row 6 (59.8 ± 0.6): row 5 + dynamic class re-weighting (DRW, beta 0.5).
_base_ = ['../gta2cs.py']
model = dict(pull=dict(query_sampling='balanced', negative_sampling='union'))
