# CamVid day->dusk benchmark, `sdca_dacs`: the `dacs` row (same warm start, schedule, EMA, teacher
# prediction, augmentation) plus SDCA's distribution-aware contrast with SDCA's values
# (configs/_base_/uda/sdca_dacs.py: tau 100, diagonal covariance, delta 0.9): source terms in the
# source pass, target terms on the mixed image's target pixels whose teacher confidence is >= 0.9.
# The statistics are initialised on the day frames as in the `sdca` row.
_base_ = ['./dacs.py']
model = dict(type='SDCADACS')  # its defaults are SDCA's values (configs/_base_/uda/sdca_dacs.py)
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=100),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
