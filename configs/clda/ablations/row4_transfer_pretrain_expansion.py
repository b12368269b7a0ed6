# CLDA Table 3, row 4 (51.9 mIoU): row 3 with label expansion of the pseudo-labels of the
# contrastive pre-training (stage 1b), the only stage with pseudo-labels when there is no stage 2.
stages = [
    dict(name='1a_source', config='../stages/gta2cs_1a_source.py'),
    dict(name='1b_contrast', config='../stages/gta2cs_1b_contrast.py', init=['1a_source'],
         cfg_options={'model.label_expansion': dict(_delete_=True, radius_quantile=0.9)}),
    dict(name='1c_head', config='../stages/gta2cs_1c_head.py', init=['1b_contrast']),
]
