# T2S-DA direction of alignment (T2S-DA §4.2), DAFormer MiT-B5, "source -> p. target": source
# queries pulled to the teacher's prototypes of the pseudo-target T(x_s) (source negatives from
# T(x_s) too). Reference: 69.0 ± 0.3 mIoU (T2S-DA 70.0 ± 0.6).
_base_ = ['../t2sda_daformer-mitb5_gta2cs.py']
model = dict(query_image='source', key_image='pseudo_target')
