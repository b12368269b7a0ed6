# CLDA's staged training, GTA5 -> Cityscapes (CLDA §4, Fig. 3), on 8 GPUs:
#   python tools/train_pipeline.py configs/clda/pipeline_gta2cs.py --work-dir work_dirs/clda_gta2cs \
#       --gpus 8
# 0   translation of the source to the target style: FDA on the fly inside stages 1a and 1c (the
#     paper's MUNIT is not available);
# 1a  supervised training on the translated source;
# 1b  contrastive training on the target with the 1a model's fixed pseudo-labels;
# 1c  head fine-tuning on the translated source, backbone frozen;
# 2   self-training (configs/clda/gta2cs.py) from 1c's network and 1b's projection head.
# Report stage 2's last checkpoint (its network: DIR/2_self_training/final.pth), not the best on
# Cityscapes val, which is this protocol's test set.
# (Config paths are relative to the pipeline file; {{ fileDirname }} keeps them valid for pipelines
# that inherit this one, e.g. ablations/row7_full.py.)
stages = [
    dict(name='1a_source', config='{{ fileDirname }}/stages/gta2cs_1a_source.py'),
    dict(name='1b_contrast', config='{{ fileDirname }}/stages/gta2cs_1b_contrast.py',
         init=['1a_source']),
    dict(name='1c_head', config='{{ fileDirname }}/stages/gta2cs_1c_head.py',
         init=['1b_contrast']),
    dict(name='2_self_training', config='{{ fileDirname }}/gta2cs.py',
         init=['1c_head', '1b_contrast:projection_head.']),
]
