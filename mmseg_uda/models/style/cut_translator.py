"""The standalone CUT translator: CONFETI stage 0 (spec §3.0), trained with CUT's losses (§2.9)."""

import torch
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from .gan_loss import lsgan_d_loss, lsgan_g_loss
from .patch_nce import PatchNCELoss
from .range import from_cut_range, to_cut_range

OPTIM_KEYS = ('generator', 'discriminator', 'patch_mlp')


def _unwrap(module):
    """The module inside a DDP wrapper (``MMSeparateDistributedDataParallel`` wraps each child)."""
    return module.module if is_model_wrapper(module) else module


@MODELS.register_module()
class CUTTranslator(BaseModel):
    """CUT (Park et al., ECCV 2020) trained alone as a source→target translator (spec §3.0, §2.9).

    Domain A is the ``source`` branch of a paired UDA batch, domain B the ``target`` branch. One
    :meth:`train_step` is one iteration of CUT's ``optimize_parameters``::

        [𝒢(A); 𝒢(B)] = 𝒢(cat(A, B))                                   (one pass, nce_idt)
        L_D = ½·[MSE(ℰ(𝒢(A)).detach → 0) + MSE(ℰ(B) → 1)]             → ℰ step
        L_G = λ_GAN·MSE(ℰ(𝒢(A)) → 1) + ½·(L_NCE(A, 𝒢(A)) + L_NCE(B, 𝒢(B)))  → 𝒢 and H_l steps

    with ℰ frozen during the 𝒢 step (§2.9; without ``nce_idt`` the NCE term is L_NCE(A, 𝒢(A))).
    PatchNCE negatives come from the same image, its batch size is the real one (§6 item 15).
    Images are converted between the preprocessor's normalised space and CUT's [−1, 1] RGB with the
    preprocessor's mean/std (§6 item 14), so it must convert BGR to RGB.

    Optimisers: an ``OptimWrapperDict`` keyed ``generator``, ``discriminator``, ``patch_mlp``
    (``MultiOptimWrapperConstructor``; Adam 2e-4, betas (0.5, 0.999), constant LR, §2.9).
    DDP: the three networks are updated by separate backward passes, so one DDP around the model
    would miss gradients; use ``model_wrapper_cfg=dict(type='MMSeparateDistributedDataParallel')``,
    which wraps each child in its own DDP and calls this ``train_step``. Every pass that needs
    gradients then runs through a child's DDP ``forward`` (𝒢 on cat(A, B), ℰ, the H_l of the
    queries); the 𝒢 encoder passes of PatchNCE call the unwrapped ``encode`` after that forward,
    which is enough: the gradient hooks are those of the parameters.

    Args:
        generator (dict): config of 𝒢. Default: ``dict(type='ResnetGenerator')`` (resnet_9blocks,
            ngf 64).
        discriminator (dict): config of ℰ. Default: ``dict(type='PatchDiscriminator')`` (ndf 64,
            3 layers).
        patch_mlp (dict): config of the H_l. Default: ``dict(type='PatchSampleMLP')``; without
            ``in_channels`` they are read from 𝒢 at ``nce_layers``.
        nce_layers (Sequence[int]): 𝒢 layers of PatchNCE, all in 𝒢_enc. Default: (0, 4, 8, 12, 16).
        num_patches (int): patch locations per layer. Default: 256.
        nce_tau (float): PatchNCE temperature τ. Default: 0.07.
        lambda_gan (float): λ_GAN. Default: 1.0.
        lambda_nce (float): λ_NCE. Default: 1.0.
        nce_idt (bool): add the identity PatchNCE on (B, 𝒢(B)) (CUT mode). Default: True.
        data_preprocessor (dict): the ``UDADataPreProcessor`` config; its mean/std (0-255, RGB)
            define the range conversion. Default: ImageNet mean/std, ``bgr_to_rgb=True``.
        init_cfg (dict, optional): mmengine init config. Default: None.
    """

    def __init__(self, generator=dict(type='ResnetGenerator'),
                 discriminator=dict(type='PatchDiscriminator'),
                 patch_mlp=dict(type='PatchSampleMLP'), nce_layers=(0, 4, 8, 12, 16),
                 num_patches=256, nce_tau=0.07, lambda_gan=1.0, lambda_nce=1.0, nce_idt=True,
                 data_preprocessor=dict(type='UDADataPreProcessor',
                                        mean=[123.675, 116.28, 103.53],
                                        std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
                 init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        pre = self.data_preprocessor
        if not getattr(pre, '_enable_normalize', False) or not getattr(pre, 'channel_conversion',
                                                                       False):
            raise ValueError('CUTTranslator: data_preprocessor must set mean, std and '
                             'bgr_to_rgb=True (CUT works on RGB in [-1, 1], spec §6 item 14), got '
                             f'{data_preprocessor!r}')
        self.generator = MODELS.build(generator)
        self.nce_layers = tuple(nce_layers)
        enc_end = getattr(self.generator, 'first_block', 0) + getattr(self.generator,
                                                                      'num_blocks', 0)
        if not self.nce_layers or any(not isinstance(i, int) or not 0 <= i < enc_end
                                      for i in self.nce_layers):
            raise ValueError(f'CUTTranslator: nce_layers must be indices of the generator '
                             f'encoder [0, {enc_end}), got {self.nce_layers}')
        patch_mlp = dict(patch_mlp)
        channels = tuple(self.generator.layer_channels[i] for i in self.nce_layers)
        patch_mlp.setdefault('in_channels', channels)
        if tuple(patch_mlp['in_channels']) != channels:
            raise ValueError(f'CUTTranslator: patch_mlp in_channels {patch_mlp["in_channels"]} do '
                             f'not match the generator channels {channels} at nce_layers '
                             f'{self.nce_layers}')
        self.patch_mlp = MODELS.build(patch_mlp)
        self.discriminator = MODELS.build(discriminator)
        self.nce_loss = PatchNCELoss(tau=nce_tau, loss_weight=lambda_nce)
        if not isinstance(num_patches, int) or num_patches < 1:
            raise ValueError(f'CUTTranslator: num_patches must be a positive int, got '
                             f'{num_patches!r}')
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

    # ------------------------------------------------------------------------------- training
    def train_step(self, data, optim_wrapper):
        """One CUT iteration on a paired batch (spec §2.9, §3.0).

        Args:
            data (dict): a ``UDADataset`` batch (``source`` = domain A, ``target`` = domain B).
            optim_wrapper (OptimWrapperDict): keyed ``generator``, ``discriminator``,
                ``patch_mlp``.

        Returns:
            dict[str, Tensor]: ``loss_d``, ``loss_g_gan``, ``loss_nce``, ``loss_nce_idt`` (when
            ``nce_idt``) and their 𝒢 total ``loss_g``, detached.
        """
        missing = [k for k in OPTIM_KEYS if k not in optim_wrapper]
        if missing:
            raise KeyError(f'CUTTranslator.train_step: optim_wrapper lacks {missing}; it has '
                           f'{list(optim_wrapper.keys())} (use MultiOptimWrapperConstructor)')
        ow_g, ow_d, ow_f = (optim_wrapper[k] for k in OPTIM_KEYS)
        data = self.data_preprocessor(data, True)
        inputs = data['inputs']
        if not isinstance(inputs, dict) or not {'source', 'target'} <= set(inputs):
            raise ValueError('CUTTranslator.train_step: expects a paired UDADataset batch with '
                             f'source and target, got inputs of type {type(inputs).__name__}')
        real_a, real_b = self.to_cut(inputs['source']), self.to_cut(inputs['target'])
        num = real_a.shape[0]
        with ow_g.optim_context(self.generator):
            fake = self.generator(torch.cat([real_a, real_b]) if self.nce_idt else real_a)
        fake_b, idt_b = fake[:num], (fake[num:] if self.nce_idt else None)

        # ℰ step on L_D: 𝒢(A) detached, so L_D does not reach 𝒢
        self._set_requires_grad(self.discriminator, True)
        with ow_d.optim_context(self.discriminator):
            loss_d = lsgan_d_loss(self.discriminator(real_b),
                                  self.discriminator(fake_b.detach()))
        ow_d.update_params(loss_d)

        # 𝒢 + H_l step on L_G, ℰ frozen
        self._set_requires_grad(self.discriminator, False)
        with ow_g.optim_context(self.generator), ow_f.optim_context(self.patch_mlp):
            loss_g_gan = self.lambda_gan * lsgan_g_loss(self.discriminator(fake_b))
            loss_nce = self.patch_nce(real_a, fake_b)
            log = dict(loss_d=loss_d, loss_g_gan=loss_g_gan, loss_nce=loss_nce)
            if self.nce_idt:
                log['loss_nce_idt'] = self.patch_nce(real_b, idt_b)
                loss_g = loss_g_gan + 0.5 * (loss_nce + log['loss_nce_idt'])
            else:
                loss_g = loss_g_gan + loss_nce
        self._backward_and_step(loss_g, ow_g, ow_f)
        self._set_requires_grad(self.discriminator, True)
        log['loss_g'] = loss_g
        return {k: v.detach() for k, v in log.items()}

    def patch_nce(self, src, tgt):
        """L_PatchNCE(src, tgt) (spec §2.9): keys from 𝒢_enc(src), queries from 𝒢_enc(tgt) at the
        same sampled locations, each through H_l. Keys are detached anyway, so they are computed
        without a graph (numerically the same as CUT)."""
        encode = _unwrap(self.generator).encode
        with torch.no_grad():
            keys, ids = self.patch_mlp(encode(src, self.nce_layers), self.num_patches)
        queries, _ = self.patch_mlp(encode(tgt, self.nce_layers), self.num_patches, ids)
        return self.nce_loss(queries, keys)

    @staticmethod
    def _backward_and_step(loss, main, *others):
        """One backward of ``loss`` through ``main``, then a step of ``main`` and ``others``
        (L_G updates 𝒢 and H_l, spec §2.9). With fp16 loss scaling (``AmpOptimWrapper``) the
        others are unscaled and stepped by ``main``'s GradScaler, which updates its scale once
        after all steps (torch's recipe for several optimisers sharing one loss)."""
        main.backward(loss)
        scaler = getattr(main, 'loss_scaler', None)
        for ow in others:
            if scaler is not None:
                scaler.unscale_(ow.optimizer)
                if ow.clip_grad_kwargs:
                    ow._clip_grad()
                scaler.step(ow.optimizer)
            else:
                ow.step()
            ow.zero_grad()
        main.step()
        main.zero_grad()

    @staticmethod
    def _set_requires_grad(module, flag):
        for p in module.parameters():
            p.requires_grad_(flag)

    # ----------------------------------------------------------------------------- inference
    def forward(self, inputs, data_samples=None, mode='tensor'):
        """Translate source images (𝒢(A)), for visual checks; there is no metric.

        Args:
            inputs (Tensor | dict): (B, 3, H, W) normalised images (H, W multiples of 4), or a
                paired ``dict(source=..., target=...)`` of which the source is translated.
            data_samples (list[SegDataSample] | dict, optional): their samples.
            mode (str): ``'tensor'``: the (B, 3, H, W) translation in the normalised space;
                ``'predict'``: ``data_samples`` with it as ``translated_img`` (``PixelData``).
                Training runs through :meth:`train_step`, not ``'loss'``.
        """
        if isinstance(inputs, dict):
            inputs = inputs['source']
            data_samples = data_samples['source'] if isinstance(data_samples, dict) \
                else data_samples
        if mode == 'loss':
            raise RuntimeError('CUTTranslator trains with train_step (three optimisers); '
                               "forward(mode='loss') is not supported")
        if mode not in ('tensor', 'predict'):
            raise ValueError(f"CUTTranslator.forward: mode must be 'tensor' or 'predict', got "
                             f'{mode!r}')
        out = self.from_cut(self.generator(self.to_cut(inputs)))
        if mode == 'tensor':
            return out
        if data_samples is None:
            data_samples = [SegDataSample() for _ in range(out.shape[0])]
        for sample, img in zip(data_samples, out):
            sample.set_field(PixelData(data=img), 'translated_img')
        return data_samples
