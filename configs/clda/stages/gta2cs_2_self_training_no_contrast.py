# CLDA stage 2 without the contrast (Table 3, rows 3-4 read as "self-training with CE only"; see
# configs/clda/ablations/README.md): the self-training of ../gta2cs.py (teacher copied every 200
# iterations, multi-scale class-adaptive pseudo-labels, the student's augmented views, L_cls of
# Eq. 4) with alpha (L_in + L_cross) off. Label expansion stays as the pipeline sets it. The
# projection head of stage 1b is carried but receives no gradient, hence find_unused_parameters
# under DDP.
_base_ = ['../gta2cs.py']
model = dict(contrast=None)
model_wrapper_cfg = dict(find_unused_parameters=True)
