# CONFETI (Li et al., "Contrast, Stylize and Adapt"; §3, §4.1, Supp. A), stage 1: the DACS/DAFormer
# self-training of configs/_base_/uda/dacs.py (EMA 0.999 with the DACS ramp, teacher BN in train
# mode, confidence weight at 0.968 over the batch, pseudo-label crop 15/120 rows, colour jitter +
# blur, thing-class feature distance 0.005; the student is evaluated) on the CUT-stylised source,
# plus:
# - ClassMix candidates: the union of the batch's source classes (the authors' DAFormer code;
#   'image' is DACS's per-image choice);
# - CAM head: 1x1 conv 2048->19 without bias, Normal(0.01), BCE on the GAP logits, weight 1; on the
#   mixed label from iteration 2000 (code);
# - projection g: one 1x1 conv 2048->512 without bias or non-linearity, raw outputs (the code; the
#   paper's "non-linear" head is ProjectionHead num_convs=2), Normal(0.01);
# - prototypes (Eq. 6-7): teacher g and CAMs of the mixed image up-sampled to the crop, top-32
#   pixels per class by CAM weight, CAM-weighted mean of raw projections, normalised, momentum 0.999
#   (first update a copy); up to iteration 3000 uniform weights on source-pasted pixels only (code);
#   ties broken at random (our choice);
# - L_PCL (Eq. 8-9): 4096 random pixels per call, T 0.1, weight 0.5, on the stylised source (t >
#   3000), the mixed image (t >= 3000) and the clean target with all pseudo-labels, times the batch
#   confidence ratio q (t > 3000, stage 1 only; the code's, not in Eq. 12);
# - L_Reg (A3 with the missing log): 2 * sum_c log softmax(mean v . P / 0.1) / (19 ln 19), the
#   code's sign (sign=-1 is the stated intent), with every L_PCL call;
# - CUT (CONFETI §3.2.2): resnet_9blocks ngf 64, PatchGAN ndf 64 x 3 layers, MLPs 256, PatchNCE on
#   layers 0,4,8,12,16 with 256 patches and tau 0.07, identity NCE, LSGAN, lambda_GAN = lambda_NCE =
#   1, trained jointly (its optimisers: schedules/adamw_confeti_joint_80k.py);
# - L_SC (Eq. 11): 0.1 * MSE of the prototype similarities of g(f(X^S)) and phi(g(f(G(X^S)))), phi a
#   1x1 conv 512->512 with bias (code; 'channel' is the per-channel reading), reaching only G and
#   phi.
# The CUT networks start from stage 0 (configs/confeti/cut_gta2cs.py) through the pipeline's `init`
# or `model.cut_checkpoint`; without either they start from CUT's random init (the code's `scratch`
# flag). Passes that skip a head need find_unused_parameters under DDP (method configs).
_base_ = ['./dacs.py']
model = dict(
    type='CONFETI',
    mix_scope='batch',
    cam_head=dict(type='CAMHead', in_channels=2048, init_std=0.01),
    projection_head=dict(type='ProjectionHead', in_channels=2048, out_channels=512, num_convs=1,
                         bias=False, normalize=False,
                         init_cfg=dict(type='Normal', std=0.01, layer='Conv2d')),
    prototypes=dict(momentum=0.999, top_n=32, cam_start_iter=3000, resolution='input'),
    pcl=dict(weight=0.5, tau=0.1, num_samples=4096, start_iter=3000, target=True),
    regularizer=dict(weight=2.0, sign=1),
    cam_loss=dict(weight=1.0, mixed_start_iter=2000),
    style=dict(type='CUT', train=True,
               generator=dict(type='ResnetGenerator', ngf=64, num_blocks=9),
               discriminator=dict(type='PatchDiscriminator', ndf=64, num_layers=3),
               patch_mlp=dict(type='PatchSampleMLP', mlp_dim=256),
               nce_layers=(0, 4, 8, 12, 16), num_patches=256, nce_tau=0.07, lambda_gan=1.0,
               lambda_nce=1.0, nce_idt=True),
    consistency=dict(type='prototype', weight=0.1, phi='linear'),
    cut_checkpoint=None,
    allow_random_style=False)  # a frozen G (stage 2) must be loaded: cut_checkpoint or load_from
