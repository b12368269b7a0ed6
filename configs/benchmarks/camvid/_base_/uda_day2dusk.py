# The CamVid day->dusk data of the UDA methods: photometrically augmented labelled day frames paired
# with unlabelled dusk frames (UDADataset); the rest as camvid_day2dusk.py.
_base_ = ['./camvid_day2dusk.py']
train_dataloader = dict(dataset=dict(_delete_=True, type='UDADataset', source={{_base_.source_aug}},
                                     target={{_base_.target}}))
# SDCA's class statistics (ClassStatisticsInitHook): one pass over the labelled day frames, whole
# frames at the training scale, no augmentation
statistics_dataloader = dict(
    batch_size=4,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CamVidDataset', data_root={{_base_.data_root}}, data_prefix={{_base_.train_prefix}},
        sequences={{_base_.day_sequences}}, pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='ValidateSegLabel'),
            dict(type='Resize', scale={{_base_.scale}}, keep_ratio=True),
            dict(type='PackSegInputs')]))
