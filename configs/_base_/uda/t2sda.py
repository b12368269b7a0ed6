# T2S-DA (Wang et al., "Pulling Target to Source"; §3, §4, Supp. A): the DACS/DAFormer self-training
# of configs/_base_/uda/dacs.py (EMA 0.999 with the DACS ramp, confidence weight at 0.968 over the
# batch, pseudo-label crop, ClassMix, colour jitter + blur, thing-class feature distance; the
# paper's "DACS with two extra strategies in DAFormer" read as FD + rare-class sampling: T2S-DA §4
# does not name them) plus lambda * L_pull. Every value is the paper's unless marked:
# - projector g: two Conv-BN-ReLU blocks to 256-d on the encoder's last output (2048-d ResNet-101
#   layer4 here; MiT-B5 configs set 512). Kernel 3x3 (UNSPECIFIED -> our choice), the final ReLU
#   kept (literal "Conv-BN-ReLU"; final_act=False is the no-ReLU option), raw output: the positive
#   key is the L2-normalised mean of raw teacher features (Eq. 5-6);
# - pseudo-target T(x_s): FDA of each source crop with the paired target crop of the batch, beta
#   0.01 (UNSPECIFIED -> our choice), on raw pixels; the paper applies FDA to the 1024x512 source
#   crop before its final 512x512 crop: we translate the 512x512 crops (the band is the same,
#   floor(0.01 * 512) = 5 frequencies);
# - queries: student g_s(h_s(T(x_s))), CBQS n_q(c) = ceil(C p(c) 128) with replacement; the source
#   labels on the feature grid are each cell's centre label (UNSPECIFIED -> 'nearest'; 'ratio' is
#   the majority >= 0.75 option, used at MiT-B5's stride 32);
# - positive: teacher source prototype of the class in the global batch; 1024 negatives shared by a
#   class's queries (pseudo-code): 512 teacher source pixels of other labelled classes (ignore
#   excluded, our choice) and 512 teacher target pixels of other pseudo-classes whose confidence is
#   in the lowest alpha = 50 % of the batch (teacher probabilities average-pooled to the feature
#   grid); InfoNCE tau 0.2 ('mse' is the MSE variant);
# - L_pull = sum_c w*_c mean_q l(q) (the pseudo-code's normalisation, which lambda = 0.1 was tuned
#   with; reduction='eq3' is Eq. 3); w* = DRW, beta 0.5, over the teacher's full-resolution target
#   prediction; classes never pseudo-labelled count as least confident (UNSPECIFIED -> our choice;
#   absent='exclude' drops them);
# - gradients of L_pull reach the student encoder and projector only (keys, prototypes, gamma and w*
#   come from the teacher without gradient).
# The source and mixed passes do not use the projector and the pull pass not the decode head: the
# DDP wrapper needs find_unused_parameters=True (set in the method configs).
_base_ = ['./dacs.py']
model = dict(
    type='T2SDA',
    projection_head=dict(type='ProjectionHead', in_channels=2048, channels=256, out_channels=256,
                         num_convs=2, kernel_size=3, norm_cfg=dict(type='BN'), final_act=True,
                         normalize=False),
    pull=dict(tau=0.2, num_queries=128, num_negatives=1024, loss='info_nce',
              query_sampling='balanced', negative_sampling='domain_equal', unreliable_ratio=0.5,
              reduction='class_mean', prototype='normalized_mean'),
    pull_weight=0.1,
    translation=[dict(type='FDA', beta=0.01)],
    query_image='pseudo_target',
    key_image='source',
    class_weighting=dict(type='dynamic', beta=0.5, absent='least_confident'),
    label_grid=dict(mode='nearest'),
)
