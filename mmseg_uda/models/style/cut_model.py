"""CUT's networks and losses for the models that train or apply them (spec §2.9): the standalone
:class:`CUTTranslator` (stage 0) and CONFETI (stages 1 and 2)."""
from contextlib import contextmanager

import torch
from mmengine.model import is_model_wrapper
from mmseg.registry import MODELS

from .gan_loss import lsgan_d_loss, lsgan_g_loss
from .patch_nce import PatchNCELoss
from .range import from_cut_range, to_cut_range

CUT_NETWORKS = ('generator', 'discriminator', 'patch_mlp')


def _unwrap(module):
    """The module inside a DDP wrapper (``MMSeparateDistributedDataParallel`` wraps each child)."""
    return module.module if is_model_wrapper(module) else module


@contextmanager
def frozen(*modules):
    """``requires_grad=False`` on every parameter of ``modules`` inside the block, restored after
    (spec §6 item 2: a loss that must reach its input but not these networks)."""
    params = [p for m in modules for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


class CUTMixin:
    """CUT (Park et al., ECCV 2020) as children ``generator`` 𝒢, ``discriminator`` ℰ and
    ``patch_mlp`` H_l of a model with a normalising ``data_preprocessor`` (spec §2.9).

    One CUT iteration is :meth:`translate_pair`, then an ℰ step on :meth:`discriminator_loss`,
    then a 𝒢 + H_l step on :meth:`generator_losses` (ℰ frozen). The children keep the names of
    CUT checkpoints' networks, so a translator checkpoint loads into any model with the mixin.
    """

    def build_cut(self, generator, discriminator=None, patch_mlp=None, nce_layers=(0, 4, 8, 12, 16),
                  num_patches=256, nce_tau=0.07, lambda_gan=1.0, lambda_nce=1.0, nce_idt=True):
        """Build 𝒢 (and, for training, ℰ and H_l; None leaves them out) and the loss settings."""
        name = type(self).__name__
        pre = self.data_preprocessor
        if not getattr(pre, '_enable_normalize', False) or not getattr(pre, 'channel_conversion',
                                                                       False):
            raise ValueError(f'{name}: data_preprocessor must set mean, std and bgr_to_rgb=True '
                             '(CUT works on RGB in [-1, 1], spec §6 item 14)')
        self.generator = MODELS.build(generator)
        self.nce_layers = tuple(nce_layers)
        enc_end = getattr(self.generator, 'first_block', 0) + getattr(self.generator,
                                                                      'num_blocks', 0)
        if not self.nce_layers or any(not isinstance(i, int) or not 0 <= i < enc_end
                                      for i in self.nce_layers):
            raise ValueError(f'{name}: nce_layers must be indices of the generator encoder '
                             f'[0, {enc_end}), got {self.nce_layers}')
        self.discriminator = None if discriminator is None else MODELS.build(discriminator)
        self.patch_mlp = None
        if patch_mlp is not None:
            patch_mlp = dict(patch_mlp)
            channels = tuple(self.generator.layer_channels[i] for i in self.nce_layers)
            patch_mlp.setdefault('in_channels', channels)
            if tuple(patch_mlp['in_channels']) != channels:
                raise ValueError(f'{name}: patch_mlp in_channels {patch_mlp["in_channels"]} do '
                                 f'not match the generator channels {channels} at nce_layers '
                                 f'{self.nce_layers}')
            self.patch_mlp = MODELS.build(patch_mlp)
        if not isinstance(num_patches, int) or num_patches < 1:
            raise ValueError(f'{name}: num_patches must be a positive int, got {num_patches!r}')
        self.nce_loss = PatchNCELoss(tau=nce_tau, loss_weight=lambda_nce)
        self.num_patches, self.lambda_gan, self.nce_idt = num_patches, lambda_gan, nce_idt

    # ----------------------------------------------------------------------------- conversion
    def to_cut(self, x):
        """Normalised preprocessor images → CUT's [−1, 1] RGB (spec §2.9)."""
        pre = self.data_preprocessor
        return to_cut_range(x, pre.mean.flatten(), pre.std.flatten())

    def from_cut(self, x):
        """CUT's [−1, 1] RGB → the preprocessor's normalised space."""
        pre = self.data_preprocessor
        return from_cut_range(x, pre.mean.flatten(), pre.std.flatten())

    # --------------------------------------------------------------------------------- losses
    def translate_pair(self, real_a, real_b):
        """[𝒢(A); 𝒢(B)] = 𝒢(cat(A, B)) in one pass (the identity 𝒢(B) only with ``nce_idt``,
        else None), in CUT's range; the graph to 𝒢 is kept."""
        num = real_a.shape[0]
        fake = self.generator(torch.cat([real_a, real_b]) if self.nce_idt else real_a)
        return fake[:num], (fake[num:] if self.nce_idt else None)

    def discriminator_loss(self, real_b, fake_b):
        """L_D = ½·[MSE(ℰ(𝒢(A)).detach → 0) + MSE(ℰ(B) → 1)] (LSGAN); it does not reach 𝒢."""
        return lsgan_d_loss(self.discriminator(real_b), self.discriminator(fake_b.detach()))

    def generator_losses(self, real_a, real_b, fake_b, idt_b):
        """L_G = λ_GAN·MSE(ℰ(𝒢(A)) → 1) + ½·(L_NCE(A, 𝒢(A)) + L_NCE(B, 𝒢(B))) with ℰ frozen
        (without ``nce_idt``: + L_NCE(A, 𝒢(A))). Returns its terms and ``loss_g``."""
        with frozen(self.discriminator):
            log = dict(loss_g_gan=self.lambda_gan * lsgan_g_loss(self.discriminator(fake_b)))
        log['loss_nce'] = self.patch_nce(real_a, fake_b)
        if self.nce_idt:
            log['loss_nce_idt'] = self.patch_nce(real_b, idt_b)
            log['loss_g'] = log['loss_g_gan'] + 0.5 * (log['loss_nce'] + log['loss_nce_idt'])
        else:
            log['loss_g'] = log['loss_g_gan'] + log['loss_nce']
        return log

    def patch_nce(self, src, tgt):
        """L_PatchNCE(src, tgt) (Eq. 10): keys from 𝒢_enc(src), queries from 𝒢_enc(tgt) at the
        same sampled locations, each through H_l. Keys are detached anyway, so they are computed
        without a graph (numerically the same as CUT)."""
        encode = _unwrap(self.generator).encode
        with torch.no_grad():
            keys, ids = self.patch_mlp(encode(src, self.nce_layers), self.num_patches)
        queries, _ = self.patch_mlp(encode(tgt, self.nce_layers), self.num_patches, ids)
        return self.nce_loss(queries, keys)
