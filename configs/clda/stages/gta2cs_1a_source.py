# CLDA stage 1a (CLDA §4, §5.4): supervised DeepLabV2-R101 on the source translated to the
# target style (stage 0). The paper translates with MUNIT, which we do not have: the translation
# engine here is FDA (beta 0.01) against random Cityscapes train images, applied on the fly (a new
# target style per sample; `translated_source_pipeline`). SGD lr 0.01 (paper), momentum 0.9, weight
# decay 1e-4, poly 0.9, head x10; the length is not given: 40k iterations at 8 GPUs x 2 images
# (our choice, PSPNet practice).
_base_ = [
    '../_base_/deeplabv2_713.py', '../../_base_/datasets/uda_gta_to_cityscapes_713x713.py',
    '../../_base_/schedules/sgd_poly_25k.py', '../../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
train_dataloader = dict(
    batch_size=2,
    dataset=dict(_delete_=True, type='GTA5Dataset', data_root='data/gta',
                 data_prefix=dict(img_path='images', seg_map_path='labels'),
                 pipeline={{_base_.translated_source_pipeline}}))
optim_wrapper = dict(constructor='DefaultOptimWrapperConstructor', optimizer=dict(lr=0.01))
max_iters = 40000
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
