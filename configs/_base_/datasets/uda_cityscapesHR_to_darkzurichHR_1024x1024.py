# Cityscapes -> Dark Zurich night at full resolution for HRDA (its released dataset base
# uda_cityscapesHR_to_darkzurichHR_1024x1024.py): uda_cityscapesHR_to_acdcHR_1024x1024.py with
# Dark Zurich (train night, val, test; 1920x1080) in place of ACDC, as the 512x512 bases do.
_base_ = ['./uda_cityscapesHR_to_acdcHR_1024x1024.py']
dark_zurich = dict(type='DarkZurichUDADataset', data_root='data/dark_zurich', conditions=('night', ))
train_dataloader = dict(dataset=dict(target=dark_zurich))
val_dataloader = dict(dataset=dark_zurich)
test_dataloader = val_dataloader
test_split_dataloader = dict(dataset=dark_zurich)
