# DAFormer (MiT-B5 + context-aware fusion decoder) at CONFETI's 640x640 crops.
_base_ = ['../../_base_/models/daformer_sepaspp_mitb5.py']
segmentor = dict(data_preprocessor=dict(size=(640, 640)))
