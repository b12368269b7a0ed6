# T2S-DA Table S4, row 4 (59.0 ± 1.5): L_pull on the pseudo-target only: C * n queries drawn from
# all labelled pixels (no CBQS), 1024 negatives from the source/target union (no DENPS), uniform
# class weights (no DRW).
_base_ = ['../gta2cs.py']
model = dict(
    pull=dict(query_sampling='random', negative_sampling='union'),
    class_weighting=dict(_delete_=True, type='uniform'))
