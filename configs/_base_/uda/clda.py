# CLDA self-training, stage 2 (Zhang et al.; CLDA §5, App. A), every paper hyper-parameter:
# teacher = hard copy of the student every 200 iterations (BN buffers too), eval-mode BN for
# pseudo-labelling (our choice), 6-scale averaged teacher probabilities, class-adaptive
# thresholds min(0.9, top-10 %), label expansion by nearest windowed teacher prototype (cosine
# distance within the class's 90 %-quantile radius: the paper's rule is in a supplement we lack: our
# choice), L = CE_s + 0.1 CE_t + 0.1 (L_in + L_cross), tau 0.07, 128-d projection of the
# penultimate features (2 layers, hidden = input width, L2-normalised), 1000 anchors per class and
# domain, per-class memories of 1000 pixels / prototypes, student views: scale 0.4-2.5, rotation
# +-45 deg, flip, colour jitter (0.4, 0.4, 0.4, 0.1) p=0.8 (SimCLR's p: unspecified), grayscale
# p=0.2, one CutOut square <= 40 px. The student is evaluated (our choice).
model = dict(
    type='CLDA',
    # the network comes from a model base; CE is averaged over the labelled pixels (PyTorch's
    # CE of the paper, not mmseg's mean over all pixels): pseudo-labels leave many pixels ignored
    segmentor=dict(decode_head=dict(loss_decode=dict(avg_non_ignore=True))),
    projection_head=dict(type='ProjectionHead', in_channels=2048, out_channels=128, num_convs=2),
    ema=dict(alpha=0.0, buffers='copy', interval=200),
    teacher_bn='eval',
    predict_on='student',
    contrast=dict(
        weight=0.1,  # alpha of Eq. 7
        tau=0.07,
        in_domain=True,
        cross_domain=True,
        anchors_per_class=1000,
        memory_size=1000,
        enqueue_per_class=100,  # unspecified in the paper (our choice)
        label_min_ratio=0.75),
    target_weight=0.1,  # lambda of Eq. 4
    source_losses=True,
    pseudo_scales=(0.5, 0.75, 1.0, 1.25, 1.5, 1.75),
    tau0=0.9,
    top=0.1,
    label_expansion=dict(radius_quantile=0.9),  # or dict(max_distance=d): a global cosine cutoff
    augment=dict(scale=(0.4, 2.5), max_rotation=45.0, flip_prob=0.5,
                 color_jitter=(0.4, 0.4, 0.4, 0.1), jitter_prob=0.8, grayscale_prob=0.2,
                 cutout_max=40),
    projection_warmup=0,  # the projection head comes trained from stage 1b
)
