# The README's demo, step 1: a small DeepLabV3 trained on the labelled toy *source* domain only (no
# adaptation) and evaluated on the toy *target* domain; CPU-sized (about 3 minutes on 2 cores, random
# init). `make demo` evaluates it on both domains, then adapts it with DACS (dacs_toy_shift.py).
_base_ = [
    '../_base_/models/deeplabv3_r18-tiny.py', '../_base_/datasets/uda_toy_shift.py',
    '../_base_/schedules/toy_cpu.py', '../_base_/default_runtime.py'
]
model = {{_base_.segmentor}}
# supervised source-only training: the source dataset alone, not the paired UDADataset
train_dataloader = dict(
    dataset=dict(_delete_=True, type='ToyShiftDataset', data_root={{_base_.data_root}},
                 domain='source', split='train', pipeline={{_base_.source_train_pipeline}}))
