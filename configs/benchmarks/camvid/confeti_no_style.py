# CamVid day->dusk benchmark, `confeti_no_style`: `confeti` without stylisation (CONFETI's Table 3 row
# B, "feature alignment"): the CAM-weighted mixed prototypes and L_PCL + L_Reg on the raw day frames,
# no CUT, no L_SC; the rest as `confeti` (dacs row's DACS, gates at 20/30, prototype momentum 0.99).
_base_ = ['./confeti.py']
model = dict(style=None)
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', constructor='UDAOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.01))
param_scheduler = [
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=300, by_epoch=False),
]
benchmark = dict(_delete_=True, warm_start='source_only_aug')  # benchmarks/camvid_day2dusk.py
