# The CamVid day->dusk data of the UDA methods: photometrically augmented labelled day frames paired
# with unlabelled dusk frames (UDADataset); the rest as camvid_day2dusk.py.
_base_ = ['./camvid_day2dusk.py']
train_dataloader = dict(dataset=dict(_delete_=True, type='UDADataset', source={{_base_.source_aug}},
                                     target={{_base_.target}}))
