# Full DeepLabV2 (all four ASPP branches summed, as in DAFormer's DLV2Head): ResNetV1c-101, OS8.
_base_ = ['./deeplabv2red_r101v1c.py']
segmentor = dict(decode_head=dict(dilations=(6, 12, 18, 24)))
