# SDCA stage 3 (SDCA §3.3, Eq. 19): the images tools/pseudo_label.py labels, all
# Cityscapes train images (2975, no labels read), resized to 1024x512 as the adaptation's target
# input [CODE], single scale, no flip, no augmentation [CODE]. Predictions are upsampled to the
# original 2048x1024 before the softmax (mmseg's postprocess), so the label maps are at the label
# resolution, named like the Cityscapes trainId labels (read them with
# data_prefix.seg_map_path=<tool work dir>/labels). Inherit it next to the adapted model's config.
pseudo_label_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='PackSegInputs'),
]
pseudo_label_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=False,  # two passes over the set, then the tool exits
    # round_up=False: with several processes, no image is counted (and written) twice
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(type='CityscapesDataset', data_root='data/cityscapes',
                 data_prefix=dict(img_path='leftImg8bit/train'), pipeline=pseudo_label_pipeline))
