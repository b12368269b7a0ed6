# CamVid day->dusk benchmark, `sdca`: SDCA (configs/_base_/uda/sdca.py: CE + 0.75 Lovasz on the day
# frames, L_feat on the ResNet-18 layer4 (512-d) and L_out on the logits, target mask delta 0.9,
# diagonal covariance, tau 100 as the authors' code) warm-started from the cached `source_only_aug`
# checkpoint of the same seed, with the same photometrically augmented day frames, schedule and
# length as the `dacs` row (300 iterations). The class statistics are initialised by a pass over the
# 305 day frames (whole frames, no augmentation) with the warm start, as Alg. 1 line 2. One network,
# no teacher: the student predicts. Stages 3-4 (offline pseudo-labels, self-training) are not run.
_base_ = [
    './_base_/model_dlv2_r18.py', './_base_/uda_day2dusk.py', '../../_base_/uda/sdca.py',
    './_base_/schedule_cpu.py', '../../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
optim_wrapper = dict(constructor='UDAOptimWrapperConstructor')  # the student only
max_iters = 300
param_scheduler = [
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
default_hooks = dict(checkpoint=dict(interval=max_iters))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='ClassStatisticsInitHook', dataloader={{_base_.statistics_dataloader}}),
]
benchmark = dict(warm_start='source_only_aug')  # read by benchmarks/camvid_day2dusk.py
