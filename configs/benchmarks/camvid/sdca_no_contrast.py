# CamVid day->dusk benchmark, `sdca_no_contrast`: the control of the `sdca` row: the same warm start,
# schedule and source losses (CE + 0.75 Lovasz on the augmented day frames) with both contrasts off,
# i.e. SDCA's "+L_lov" source-only training continued for 300 iterations (no target pass).
_base_ = ['./sdca.py']
model = dict(feature_contrast=None, output_contrast=None)
custom_hooks = [dict(type='RandomStateHook')]
