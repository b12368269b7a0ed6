# CONFETI stage 1 on DeepLabV2-R101, SYNTHIA -> Cityscapes: joint training of the segmenter and the CUT
# translator (CONFETI §3.2), 640x640 crops (paper; the released stage-1 config used 512),
# batch 2 + 2 per GPU, 80k iterations; every method value in configs/_base_/uda/confeti.py, the
# optimisers in schedules/adamw_confeti_joint_80k.py. The entry point of
#   tools/dist_train.sh configs/confeti/synthia2cs.py 8
# which starts CUT from scratch unless `--cfg-options model.cut_checkpoint=<stage-0 checkpoint>`;
# the paper's whole schedule (stage 0 CUT alone, this stage, stage 2 = synthia2cs_stage2.py) is
#   python tools/train_pipeline.py configs/confeti/pipeline_synthia2cs.py --work-dir work_dirs/confeti_synthia2cs --gpus 8
# SYNTHIA resized to fit 1280x760 (UNSPECIFIED -> DAFormer's); 19-way model, mIoU over 16 and 13
# classes. Reference (after stage 2): 58.7 (16) / 67.4 (13) mIoU (Table 2).
# Protocol: CONFETI's (§4.1 and the authors' DAFormer-based code: ClassMix classes from the batch).
_base_ = [
    './_base_/deeplabv2_640.py', '../_base_/datasets/uda_synthia_to_cityscapes_640x640.py',
    '../_base_/uda/confeti.py', '../_base_/schedules/adamw_confeti_joint_80k.py',
    '../_base_/default_runtime.py'
]
model = dict(segmentor={{_base_.segmentor}})
default_hooks = dict(checkpoint=dict(save_best='mIoU16'))  # the SYNTHIA protocol's headline
model_wrapper_cfg = dict(find_unused_parameters=True)  # see configs/_base_/uda/confeti.py
