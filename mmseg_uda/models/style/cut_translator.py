"""The standalone CUT translator: CONFETI stage 0 (spec §3.0), trained with CUT's losses (§2.9)."""

from mmengine.model import BaseModel
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from ...engine.optim_wrapper import step_with_scaler
from .cut_model import CUT_NETWORKS as OPTIM_KEYS
from .cut_model import CUTMixin


@MODELS.register_module()
class CUTTranslator(CUTMixin, BaseModel):
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
        self.build_cut(generator, discriminator, patch_mlp, nce_layers, num_patches, nce_tau,
                       lambda_gan, lambda_nce, nce_idt)

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
        with ow_g.optim_context(self.generator):
            fake_b, idt_b = self.translate_pair(real_a, real_b)

        # ℰ step on L_D: 𝒢(A) detached, so L_D does not reach 𝒢
        with ow_d.optim_context(self.discriminator):
            loss_d = self.discriminator_loss(real_b, fake_b)
        ow_d.update_params(loss_d)

        # 𝒢 + H_l step on L_G, ℰ frozen; with fp16, H_l steps on 𝒢's loss scale (one backward)
        with ow_g.optim_context(self.generator), ow_f.optim_context(self.patch_mlp):
            log = self.generator_losses(real_a, real_b, fake_b, idt_b)
        ow_g.backward(log['loss_g'])
        step_with_scaler(ow_f, ow_g)
        step_with_scaler(ow_g, ow_g)  # last: it updates the loss scale once for both
        log['loss_d'] = loss_d
        return {k: v.detach() for k, v in log.items()}

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
