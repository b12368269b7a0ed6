# T2S-DA Table S4, row 5 (59.2 ± 0.2): row 4 + class-balanced query sampling (CBQS).
_base_ = ['../gta2cs.py']
model = dict(
    pull=dict(query_sampling='balanced', negative_sampling='union'),
    class_weighting=dict(_delete_=True, type='uniform'))
