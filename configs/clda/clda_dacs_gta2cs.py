# clda_dacs: CLDA's in-domain and cross-domain contrast added to our DACS (configs/dacs/gta2cs.py:
# DACS with DAFormer's strategies on DeepLabV2-R101 "dlv2red", GTA5 -> Cityscapes, 40k iterations).
# L = DACS's L_S + L_M + alpha (L_in + L_cross) on a 128-d L2-normalised projection of the backbone
# output: source anchors from the source pass; target anchors and Eq. 2 prototypes from the
# target pixels of the mixed image whose teacher confidence is >= 0.968 (DACS's threshold). The
# other DomainContrast keys keep CLDA's values (1000 anchors per class and domain, memories of
# 1000, tau 0.07).
# Protocol: configs/dacs/gta2cs.py's (DAFormer §3.1, §3.3, §4.1; ClassMix classes from the batch).
_base_ = ['../dacs/gta2cs.py']
model = dict(
    projection_head=dict(type='ProjectionHead', in_channels=2048, out_channels=128, num_convs=2),
    contrast=dict(weight=0.1, tau=0.07, in_domain=True, cross_domain=True, anchors_per_class=1000,
                  memory_size=1000, enqueue_per_class=100, label_min_ratio=0.75))
