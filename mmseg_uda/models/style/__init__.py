"""CUT building blocks (Park et al., ECCV 2020) for CONFETI (spec §2.9): generator 𝒢,
PatchGAN discriminator ℰ, patch sampler with the H_l MLPs, PatchNCE and LSGAN losses, and the
mmseg ↔ CUT value-range conversion. Importing this package registers the modules in
``mmseg.registry.MODELS``."""
from .gan_loss import lsgan_d_loss, lsgan_g_loss
from .patch_discriminator import PatchDiscriminator
from .patch_nce import PatchNCELoss, PatchSampleMLP, patch_nce_loss
from .range import IMAGENET_MEAN, IMAGENET_STD, from_cut_range, to_cut_range
from .resnet_generator import BlurPool2d, BlurUpsample2d, ResnetGenerator, cut_init

__all__ = ['ResnetGenerator', 'PatchDiscriminator', 'PatchSampleMLP', 'PatchNCELoss',
           'patch_nce_loss', 'lsgan_d_loss', 'lsgan_g_loss', 'to_cut_range', 'from_cut_range',
           'IMAGENET_MEAN', 'IMAGENET_STD', 'BlurPool2d', 'BlurUpsample2d', 'cut_init']
