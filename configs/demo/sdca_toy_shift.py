# SDCA on the toy shift, CPU-sized: warm-started from the source-only demo model (`make demo` trains
# it), its class statistics initialised by a pass over the labelled toy source (Alg. 1 line 2), then
# 150 SDCA iterations with the paper's values (configs/_base_/uda/sdca.py: CE + 0.75 Lovasz, L_feat on
# the ResNet-18 layer4, L_out on the logits, delta 0.9, diagonal covariance, tau 100 of the authors'
# code) and the demo's AdamW schedule. One network: the student predicts.
_base_ = [
    '../_base_/models/deeplabv3_r18-tiny.py', '../_base_/datasets/uda_toy_shift.py',
    '../_base_/uda/sdca.py', '../_base_/schedules/toy_cpu.py', '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
load_from = 'work_dirs/demo/source_only/iter_300.pth'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
max_iters = 150
param_scheduler = [
    dict(type='PolyLR', power=1.0, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=75)
default_hooks = dict(logger=dict(interval=15), checkpoint=dict(interval=75))
custom_hooks = [
    dict(type='RandomStateHook'),
    dict(type='UDADebugVisualizationHook', interval=75),
    dict(type='ClassStatisticsInitHook',
         dataloader=dict(batch_size=4, num_workers=0,
                         sampler=dict(type='DefaultSampler', shuffle=False),
                         dataset=dict(type='ToyShiftDataset', data_root={{_base_.data_root}},
                                      domain='source', split='train',
                                      pipeline={{_base_.test_pipeline}}))),
]
