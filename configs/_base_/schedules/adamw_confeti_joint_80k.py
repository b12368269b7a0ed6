# CONFETI stage 1 (CONFETI §3.2.2, Supp. A4-A6; CUT's code): the segmenter schedule of
# adamw_confeti_80k.py for the `student` (with phi) plus CUT's three optimisers, Adam lr 2e-4, betas
# (0.5, 0.999), no weight decay, constant LR (the code creates CUT schedulers but never steps them),
# one optim wrapper per network (MultiOptimWrapperConstructor; `tools/train.py --amp` sets the
# wrapper type of all four).
_base_ = ['./adamw_confeti_80k.py']
cut_optimizer = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0)
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    student=dict(
        optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
        # the keys of adamw_daformer_40k.py (see there for MiT's stage-final norms) plus phi
        paramwise_cfg=dict(custom_keys={
            'head': dict(lr_mult=10.0), 'consistency_proj': dict(lr_mult=10.0),
            'pos_block': dict(decay_mult=0.0), 'norm': dict(decay_mult=0.0),
            'backbone.layers.0.2.': dict(decay_mult=0.0),
            'backbone.layers.1.2.': dict(decay_mult=0.0),
            'backbone.layers.2.2.': dict(decay_mult=0.0),
            'backbone.layers.3.2.': dict(decay_mult=0.0)})),
    generator=dict(optimizer=cut_optimizer),
    discriminator=dict(optimizer=cut_optimizer),
    patch_mlp=dict(optimizer=cut_optimizer))
param_scheduler = dict(_delete_=True, student={{_base_.param_scheduler}}, generator=[],
                       discriminator=[], patch_mlp=[])  # CUT's LR is constant
