# Runtime shared by every config: the plugin import, mmseg scope, hooks, logging, DDP on CPU and GPU.
default_scope = 'mmseg'
custom_imports = dict(imports=['mmseg_uda'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; tools/train.py switches to gloo when CUDA is unavailable.
    dist_cfg=dict(backend='nccl'),
)
# Drops DDP's device_ids for CPU modules (gloo); identical to MMDistributedDataParallel on CUDA.
model_wrapper_cfg = dict(type='DeviceAgnosticDDP', broadcast_buffers=False,
                         find_unused_parameters=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# diff_rank_seed: each rank draws its own target images, rare classes and augmentations (with the
# same seed everywhere, ranks without dataloader workers would draw identical target batches).
randomness = dict(seed=0, diff_rank_seed=True)
custom_hooks = [
    # random generators of every rank in the checkpoints: a resumed run continues exactly
    dict(type='RandomStateHook'),
    # UDA segmentors: a grid of source/target/pseudo-label/mixed images every `interval` iterations
    dict(type='UDADebugVisualizationHook', interval=1000),
    # stop at the first NaN/Inf loss, before a checkpoint of that iteration is written
    # (tools/train.py also adds it, and ClassCountCheckHook, to configs that replace custom_hooks)
    dict(type='FiniteLossHook'),
]
tta_model = dict(type='SegTTAModel')
