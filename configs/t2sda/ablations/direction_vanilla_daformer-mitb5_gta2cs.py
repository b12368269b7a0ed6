# T2S-DA direction of alignment (T2S-DA §4.2), DAFormer MiT-B5, "vanilla contrast": queries and
# prototypes both from the source image (no pseudo-target); negatives as T2S-DA (source + target).
# Reference: 68.5 ± 0.3 mIoU (T2S-DA 70.0 ± 0.6).
_base_ = ['../t2sda_daformer-mitb5_gta2cs.py']
model = dict(query_image='source', key_image='source')
