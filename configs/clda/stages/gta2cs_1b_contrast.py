# CLDA stage 1b (CLDA §4, Fig. 3; its loss is not spelt out): contrastive training on the target
# alone, initialised from stage 1a. The objective is the target part of Eq. 7, alpha L_ctr(t, t+) +
# lambda CE(t, y_t) (our reading; the source terms are off: source_losses=False), on pseudo-labels
# of the stage-1a model that stay fixed (the teacher is copied once and never refreshed),
# thresholded as in stage 2 (multi-scale, min(0.9, top-10 %)), without label expansion (the Table 3
# ablation row 4 turns it on). LR 1e-3 for 10k iterations (our choice; the paper gives neither).
_base_ = ['../gta2cs.py']
max_iters = 10000
model = dict(
    source_losses=False,
    contrast=dict(cross_domain=False),
    ema=dict(interval=max_iters + 1),
    label_expansion=None)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
