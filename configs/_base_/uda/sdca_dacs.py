# sdca_dacs (not a paper): DACS (./dacs.py, DAFormer's settings) plus SDCA's distribution-aware
# contrast at both levels with SDCA's values (./sdca.py: tau 100, diagonal covariance, raw-feature
# statistics, lambda_feat = lambda_out = 1): the source terms and the statistics update in the source
# pass, the target terms on the mixed image's target pixels whose EMA-teacher confidence on the clean
# target is >= delta 0.9. Method configs add ClassStatisticsInitHook (the statistics' first pass).
_base_ = ['./dacs.py']
model = dict(
    type='SDCADACS',
    feature_contrast=dict(tau=100.0, covariance='diag', stats_space='raw', update='cumulative',
                          loss_weight=1.0),
    output_contrast=dict(tau=100.0, covariance='diag', stats_space='raw', update='cumulative',
                         loss_weight=1.0),
    feature_index=None,
    target_threshold=0.9,
    require_warm_start=True,  # from a source-only checkpoint (load_from), as SDCA's adaptation
)
