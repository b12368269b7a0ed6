import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapperDict
from mmengine.runner import CheckpointLoader
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ...engine.optim_wrapper import step_with_scaler
from ..losses.prototype_contrast import (diversity_regularizer, pixel_prototype_contrast,
                                         semantic_consistency_loss)
from ..style.cut_model import CUT_NETWORKS, CUTMixin, frozen
from ..utils.checks import COUNT, INTEGER, NON_NEGATIVE, POSITIVE, PROBABILITY, check_keys
from ..utils.dist import average_gradients_
from ..utils.ema import teacher_mode
from ..utils.load_record import add_load_record, record_load
from ..utils.mixing import classmix_masks, mix
from ..utils.precision import upcast
from ..utils.prototypes import MomentumPrototypes
from ..utils.sampling import labels_to_grid
from .dacs import DACS
from .uda_base import pixel_labels

CUT_DEFAULTS = dict(generator=dict(type='ResnetGenerator'),
                    discriminator=dict(type='PatchDiscriminator'),
                    patch_mlp=dict(type='PatchSampleMLP'), nce_layers=(0, 4, 8, 12, 16),
                    num_patches=256, nce_tau=0.07, lambda_gan=1.0, lambda_nce=1.0, nce_idt=True)
PROTOTYPE_DEFAULTS = dict(momentum=0.999, top_n=32, cam_start_iter=3000, resolution='input')
PCL_DEFAULTS = dict(weight=0.5, tau=0.1, num_samples=4096, start_iter=3000, target=True)
REG_DEFAULTS = dict(weight=2.0, sign=1)
CAM_DEFAULTS = dict(weight=1.0, mixed_start_iter=2000)
SC_DEFAULTS = dict(type='prototype', weight=0.1, phi='linear')
# valid values of the method keys (utils/checks.py), checked when the model is built
RULES = dict(
    prototypes=dict(momentum=PROBABILITY, top_n=COUNT, cam_start_iter=INTEGER,
                    resolution=('input', 'feature')),
    pcl=dict(weight=NON_NEGATIVE, tau=POSITIVE, num_samples=COUNT, start_iter=INTEGER),
    regularizer=dict(weight=NON_NEGATIVE, sign=(1, -1)),
    cam_loss=dict(weight=NON_NEGATIVE, mixed_start_iter=INTEGER),
    consistency=dict(type=('prototype', 'feature_mse'), weight=NON_NEGATIVE,
                     phi=('linear', 'channel')))
CUT_RULES = dict(num_patches=COUNT, nce_tau=POSITIVE, lambda_gan=NON_NEGATIVE,
                 lambda_nce=NON_NEGATIVE, beta=dict(low=0, high=0.5))  # beta: FDA's band


def _merged(name, value, defaults):
    unknown = set(value) - set(defaults)
    if unknown:
        raise KeyError(f'CONFETI: unknown {name} keys {sorted(unknown)}; known {sorted(defaults)}')
    return {**defaults, **value}


@MODELS.register_module()
class CONFETI(CUTMixin, DACS):
    """CONFETI (Li et al., "Contrast, Stylize and Adapt", §3 and Supp. A): DACS on the
    stylised source, CAM-weighted mixed prototypes with pixel-to-prototype contrast, and a CUT
    translator trained jointly with the segmenter under the semantic-consistency loss.

    One iteration t (spec §3.1, the authors' order where it matters):

    1. X̂^{S→T} = 𝒢(X^S) (CUT, with 𝒢(X^T) for the identity NCE); the segmenter only ever sees
       it detached;
    2. teacher pseudo-labels ŷ_T on the clean target, q = share of confidences ≥ τ (DACS);
    3. ClassMix of X̂^{S→T} and X^T, colour jitter and blur of X^M; Y^M, W^M as DACS;
    4. prototypes (Eq. 6–7): teacher projections and CAMs of X^M, top-n per class of Y^M,
       momentum γ; for t ≤ 3000 uniform weights over the source-pasted pixels only;
    5. source: CE(X̂^{S→T}, Y^S) + L_CAM + [t > 3000](λ_PCL L_PCL + L_Reg), FD against the
       ImageNet features of the original X^S;
    6. CUT (stage 1): ℰ step on L_D; then one backward of L_G + λ_SC L_SC (Eq. 11; L_SC reaches
       only 𝒢 and φ, the student is frozen on that pass) and the 𝒢 and H_l steps;
    7. mixed: weighted CE(X^M, Y^M) + [t > 2000] L_CAM + [t ≥ 3000](λ_PCL L_PCL + L_Reg);
    8. target (stage 1): [t > 3000] q·(λ_PCL L_PCL + L_Reg) on X^T with all pseudo-labels;
    9. one segmenter step (student, its CAM and projection heads, φ); EMA of all of them.

    The joint objective is Eq. 12 / A7. Stage 2 (``style=dict(type='CUT', train=False)``) applies
    a frozen 𝒢 and drops steps 6 and 8 (``pcl.target=False``).

    Optimisers: with a trained CUT, an ``OptimWrapperDict`` (``MultiOptimWrapperConstructor``)
    keyed ``student`` (AdamW, schedule) and ``generator``, ``discriminator``, ``patch_mlp``
    (Adam, constant); else a single wrapper of the student. All backward passes use the student
    wrapper's loss scale (fp16), :func:`step_with_scaler`. Under DDP (``DeviceAgnosticDDP``) the
    CUT networks are outside the DDP reducer (``ddp_ignored_modules``: they have their own
    backward passes and steps); their gradients are averaged over ranks before each of their
    steps, and the prototypes are updated from the global batch. Passes skip the decode head or
    the projector: ``find_unused_parameters=True``.

    Args:
        segmentor, ema, teacher_bn, predict_on, data_preprocessor and the DACS arguments: see
            :class:`DACS` (``contrast`` is CLDA's and not allowed).
        cam_head (dict): the CAM classifier w (``CAMHead``, 1×1 conv without bias, Eq. 4–5); its
            ``num_classes`` defaults to the decode head's.
        projection_head (dict): g (``ProjectionHead``; the code's single 1×1 conv 2048→512 without
            bias, raw outputs, Normal(0.01) init).
        prototypes (dict): ``momentum`` γ (0.999), ``top_n`` (32), ``cam_start_iter`` (3000: up to
            it uniform weights on source-pasted pixels), ``resolution`` (``'input'``: teacher
            maps up-sampled to the crop, code; ``'feature'``: labels sampled on the grid).
        pcl (dict): ``weight`` λ_PCL (0.5), ``tau`` T (0.1), ``num_samples`` N (4096),
            ``start_iter`` (3000), ``target`` (the target-only term of step 8, stage 1).
        regularizer (dict): L_Reg ``weight`` (2, divided by K ln K) and ``sign`` (+1: the code).
        cam_loss (dict): λ_CAM ``weight`` (1) and ``mixed_start_iter`` (2000).
        style (dict | None): ``dict(type='CUT', train=True, **CUT settings)`` (stage 1; the keys
            of :meth:`CUTMixin.build_cut`), ``train=False`` (a frozen 𝒢: stage 2 and the offline
            rows of Tab. 3), ``dict(type='FDA', beta=0.09)`` (Tab. 4) or None (no stylisation).
        consistency (dict | None): ``type`` ``'prototype'`` (L_SC, Eq. 11) or ``'feature_mse'``
            (‖φ(v̂) − v‖², one reading of Tab. 4's "MSE"), ``weight`` (0.1), ``phi`` (``'linear'``:
            1×1 conv with bias, code; ``'channel'``); None: no consistency loss (Tab. 4). Only
            with a trained CUT.
        cut_checkpoint (str, optional): a checkpoint whose ``generator.*`` (and, when CUT trains,
            ``discriminator.*``, ``patch_mlp.*``) weights are loaded by ``init_weights``: a
            stage-0 ``CUTTranslator`` or a stage-1 CONFETI checkpoint.
        allow_random_style (bool): with a frozen 𝒢 (``train=False``), train even if no generator
            weights were loaded (neither ``cut_checkpoint`` nor ``generator.*`` in ``load_from``),
            i.e. on a randomly initialised 𝒢, whose output is a near-constant grey image. Default
            False: the first iteration raises instead. Whether 𝒢 was loaded is the buffer
            ``generator_loaded``, carried by checkpoints, so a resumed run keeps it.
    """
    STUDENT_MODES = DACS.STUDENT_MODES + ('consistency_loss', 'target_contrast_loss')
    ddp_ignored_modules = CUT_NETWORKS

    def __init__(self, segmentor,
                 cam_head=dict(type='CAMHead', in_channels=2048),
                 projection_head=dict(type='ProjectionHead', in_channels=2048, out_channels=512,
                                      num_convs=1, bias=False, normalize=False,
                                      init_cfg=dict(type='Normal', std=0.01, layer='Conv2d')),
                 prototypes=dict(), pcl=dict(), regularizer=dict(), cam_loss=dict(),
                 style=dict(type='CUT', train=True), consistency=dict(), cut_checkpoint=None,
                 allow_random_style=False, **kwargs):
        if kwargs.get('contrast') is not None:
            raise KeyError("CONFETI: `contrast` is CLDA's contrast of DACS; use `pcl`")
        owner = type(self).__name__
        for name, value in dict(prototypes=prototypes, pcl=pcl, regularizer=regularizer,
                                cam_loss=cam_loss, consistency=consistency).items():
            check_keys(owner, value, RULES[name], f'{name}.')
        check_keys(owner, style, CUT_RULES, 'style.')
        style = None if style is None else dict(style)
        self.style_type = None if style is None else style.pop('type', None)
        if self.style_type not in (None, 'CUT', 'FDA'):
            raise ValueError("CONFETI: style type must be 'CUT' or 'FDA' (or style=None), got "
                             f'{self.style_type!r}')
        self.train_style = self.style_type == 'CUT' and style.pop('train', True)
        self.consistency = None
        if consistency is not None and self.train_style:
            self.consistency = _merged('consistency', consistency, SC_DEFAULTS)
            if self.consistency['type'] not in ('prototype', 'feature_mse'):
                raise ValueError("CONFETI: consistency type must be 'prototype' or "
                                 f"'feature_mse', got {self.consistency['type']!r}")
        cam_head = dict(cam_head)  # K from the decode head unless given
        cam_head.setdefault('num_classes', segmentor.get('decode_head', {}).get('num_classes', 19))
        heads = dict(cam_head=cam_head, projection_head=projection_head)
        dim = projection_head.get('out_channels', 128)
        if self.consistency is not None:
            heads['consistency_proj'] = dict(type='AffineProjection', channels=dim,
                                             mode=self.consistency['phi'])
        kwargs['student_heads'] = dict(kwargs.get('student_heads') or {}, **heads)
        super().__init__(segmentor, **kwargs)
        if self.teacher is None:
            raise ValueError('CONFETI needs the EMA teacher (prototypes, pseudo-labels); got '
                             'ema=None')
        proto = _merged('prototypes', prototypes, PROTOTYPE_DEFAULTS)
        if proto['resolution'] not in ('input', 'feature'):
            raise ValueError("CONFETI: prototypes resolution must be 'input' or 'feature', got "
                             f"{proto['resolution']!r}")
        self.proto_cfg = proto
        self.prototypes = MomentumPrototypes(self.num_classes, dim, proto['momentum'],
                                             proto['top_n'])
        self.pcl = _merged('pcl', pcl, PCL_DEFAULTS)
        self.reg = _merged('regularizer', regularizer, REG_DEFAULTS)
        self.cam = _merged('cam_loss', cam_loss, CAM_DEFAULTS)
        self.generator = self.discriminator = self.patch_mlp = None
        if self.style_type == 'CUT':
            cut = _merged('style', style, CUT_DEFAULTS)
            if not self.train_style:
                cut.update(discriminator=None, patch_mlp=None)
            self.build_cut(**cut)
            if not self.train_style:
                self.generator.requires_grad_(False)
                add_load_record(self, 'generator_loaded')
        elif self.style_type == 'FDA':
            self.fda_beta = _merged('style', style, dict(beta=0.09))['beta']
        self.cut_checkpoint = cut_checkpoint
        self.allow_random_style = allow_random_style
        self._style_checked = False
        self.iter = 0  # t, set at each iteration from the teacher's update count
        self._cut_optim = {}

    # -- weights -------------------------------------------------------------------------------
    def init_weights(self):
        super().init_weights()
        if self.cut_checkpoint is not None:
            self.load_cut(self.cut_checkpoint)

    def load_cut(self, filename):
        """Load this model's CUT networks from ``filename`` (keys ``generator.*`` etc.)."""
        if not osp.isfile(filename):
            raise FileNotFoundError(f'CONFETI: model.cut_checkpoint {filename} does not exist')
        state = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        state = state.get('state_dict', state)
        for name in CUT_NETWORKS:
            net = getattr(self, name)
            if net is None:
                continue
            part = {k[len(name) + 1:]: v for k, v in state.items() if k.startswith(name + '.')}
            if not part:
                prefixes = sorted({k.split('.')[0] for k in state})
                raise KeyError(f'CONFETI: model.cut_checkpoint {filename} has no {name}.* '
                               f'weights (its keys start with {prefixes})')
            try:
                net.load_state_dict(part)
            except RuntimeError as err:
                raise RuntimeError(f'CONFETI: model.cut_checkpoint {filename}: {name} does not '
                                   f'match this model: {err}') from None
        if hasattr(self, 'generator_loaded'):
            self.generator_loaded.fill_(True)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """A checkpoint with ``generator.*`` weights but no ``generator_loaded`` record (a CUT or
        stage-1 checkpoint, or the stage-2 ``load_from`` that tools/train_pipeline.py merges)
        loads the frozen 𝒢; a stage-2 checkpoint carries its own record (resume)."""
        record_load(self, state_dict, prefix, 'generator_loaded', ('generator.', ))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def check_style_loaded(self):
        """Refuse to train on a frozen 𝒢 that was never loaded (a random network stylises every
        source image to grey), unless ``allow_random_style``. Run at the first iteration, after
        the Runner's ``load_from`` / resume."""
        if self._style_checked:
            return
        if hasattr(self, 'generator_loaded') and not self.allow_random_style \
                and not bool(self.generator_loaded):
            raise RuntimeError(
                "CONFETI: the frozen style generator (model.style=dict(type='CUT', train=False), "
                'stage 2) was never loaded: it is randomly initialised and would turn every '
                'source image grey. Set model.cut_checkpoint to a stage-0 CUTTranslator or '
                'stage-1 CONFETI checkpoint, or load_from a checkpoint holding generator.* '
                'weights (tools/train_pipeline.py configs/confeti/pipeline_gta2cs.py does this '
                "for stage 2), or set model.allow_random_style=True to train on it anyway.")
        self._style_checked = True

    # -- the iteration -------------------------------------------------------------------------
    def train_step(self, data, optim_wrapper, forward=None):
        """As :meth:`UDABaseSegmentor.train_step`, with the CUT optimisers of an
        ``OptimWrapperDict`` kept for step 6 and its ``student`` wrapper as the segmenter's."""
        if isinstance(optim_wrapper, OptimWrapperDict):
            if 'student' not in optim_wrapper:
                raise KeyError('CONFETI: optim_wrapper needs a `student` entry, got '
                               f'{list(optim_wrapper.keys())}')
            self._cut_optim = {k: optim_wrapper[k] for k in CUT_NETWORKS if k in optim_wrapper}
            optim_wrapper = optim_wrapper['student']
        self.check_style_loaded()
        missing = [k for k in CUT_NETWORKS if self.train_style and k not in self._cut_optim]
        if missing:
            raise KeyError(f'CONFETI: CUT trains jointly (style train=True) but optim_wrapper has '
                           f'no {missing} entries (MultiOptimWrapperConstructor)')
        return super().train_step(data, optim_wrapper, forward)

    def train_iteration(self, inputs, data_samples, optim_wrapper, forward):
        self.iter = int(self.teacher.steps)
        src_img, tgt_img = inputs['source'], inputs['target']
        src_samples, tgt_samples = data_samples['source'], data_samples['target']
        src_label = pixel_labels(src_samples)
        context = optim_wrapper.optim_context
        with context(self):
            style = self.stylise(src_img, tgt_img)  # 1
            probs, _ = self.teacher_probs(tgt_img)  # 2
        stylised = style['image'].detach()
        pseudo_label, pseudo_weight, conf = self.pseudo_labels(probs)
        mask = classmix_masks(src_label, self.num_classes, self.mix_scope, self.ignore_index)  # 3
        mixed_img = mix(mask, stylised, tgt_img)
        if self.strong_aug is not None:
            mixed_img = self.strong_aug(mixed_img)
        mixed_label = mix(mask, src_label, pseudo_label)
        mixed_weight = mix(mask, torch.ones_like(pseudo_weight), pseudo_weight)
        with context(self):
            if self.uses_prototypes:
                self.update_prototypes(mixed_img, mixed_label, mask)  # 4
            log_vars = self.backward(forward(stylised, src_samples, mode='source_loss',  # 5
                                             imnet_inputs=src_img), optim_wrapper, 'src')
        if self.train_style:
            log_vars.update(self.style_step(src_img, style, optim_wrapper, forward))  # 6
        with context(self):
            log_vars.update(self.backward(forward(  # 7
                mixed_img, tgt_samples, mode='weighted_loss', labels=mixed_label,
                weights=mixed_weight, contrast_label=mixed_label), optim_wrapper, 'mix'))
            if self.pcl['target'] and self.iter > self.pcl['start_iter']:  # 8
                log_vars.update(self.backward(forward(
                    tgt_img, tgt_samples, mode='target_contrast_loss', labels=pseudo_label,
                    scale=self.confidence_ratio(conf).mean()), optim_wrapper, 'tgt'))
        log_vars['mix.pseudo_weight'] = pseudo_weight.mean().item()
        self.debug_output = dict(source_img=self.denormalize(src_img), source_label=src_label,
                                 stylised_img=self.denormalize(stylised),
                                 target_img=self.denormalize(tgt_img), pseudo_label=pseudo_label,
                                 pseudo_weight=pseudo_weight, mixed_img=self.denormalize(mixed_img),
                                 mixed_label=mixed_label, mix_mask=mask)
        log_vars.update(self.masked_consistency_step(  # MIC
            src_img, src_label, tgt_img, tgt_samples, pseudo_label, pseudo_weight, optim_wrapper,
            forward))
        return log_vars

    @property
    def uses_prototypes(self):
        """Whether a loss reads the prototypes (else step 4 is skipped: Table 3's baseline, A)."""
        return self.pcl['weight'] > 0 or self.reg['weight'] > 0 or self.consistency is not None

    def cam_loss(self, feats, labels):
        """λ_CAM L_CAM (Supp. A1–A2) of the student's CAM head; {} with weight 0."""
        if self.cam['weight'] == 0:
            return {}
        return dict(loss_cam=self.cam['weight'] *
                    self.student.cam_head.loss(feats, labels, self.ignore_index))

    def stylise(self, src_img, tgt_img):
        """Step 1: ``image`` = X̂^{S→T} in the normalised space; with a trained CUT also its CUT-range
        tensors ``real_a``, ``real_b``, ``fake_b``, ``idt_b`` (graph to 𝒢 kept)."""
        if self.style_type is None:
            return dict(image=src_img)
        if self.style_type == 'FDA':
            return dict(image=self.fda(src_img, tgt_img, self.fda_beta))
        real_a = self.to_cut(src_img)
        if not self.train_style:  # a frozen 𝒢 predicts as a teacher does (no dropout)
            with torch.no_grad():
                generator = teacher_mode(self.generator, bn_train=False)
                return dict(image=self.from_cut(generator(real_a)))
        real_b = self.to_cut(tgt_img)
        fake_b, idt_b = self.translate_pair(real_a, real_b)
        return dict(image=self.from_cut(fake_b), real_a=real_a, real_b=real_b, fake_b=fake_b,
                    idt_b=idt_b)

    @torch.no_grad()
    def update_prototypes(self, mixed_img, mixed_label, mask):
        """Step 4, Eq. 6–7 / Alg. 1 (spec §2.6) from the teacher's g̃ and CAMs of X^M."""
        teacher = self._teacher_for_inference()
        feats = teacher.extract_feat(mixed_img)
        v, cams = teacher.projection_head(feats), teacher.cam_head.cams(feats)
        if self.proto_cfg['resolution'] == 'input':  # the code's ori_size=True
            v = resize(v, size=mixed_label.shape[1:], mode='bilinear', align_corners=True)
            cams = resize(cams, size=mixed_label.shape[1:], mode='bilinear', align_corners=True)
        else:
            mixed_label = labels_to_grid(mixed_label, v.shape[2:])
            mask = labels_to_grid(mask.long(), v.shape[2:]).bool()
        if self.iter <= self.proto_cfg['cam_start_iter']:  # uniform, source-pasted pixels only
            mixed_label = torch.where(mask, mixed_label, self.ignore_index)
            cams = None
        self.prototypes.update(v, mixed_label, cams)

    def style_step(self, src_img, style, optim_wrapper, forward):
        """Step 6: ℰ step on L_D, then 𝒢 and H_l steps on L_G + λ_SC L_SC (one backward; the
        L_SC gradient of φ waits for the segmenter step)."""
        with optim_wrapper.optim_context(self):
            loss_d = self.discriminator_loss(style['real_b'], style['fake_b'])
        optim_wrapper.backward(loss_d)
        self.cut_step('discriminator', optim_wrapper)
        with optim_wrapper.optim_context(self):
            losses = self.generator_losses(style['real_a'], style['real_b'], style['fake_b'],
                                           style['idt_b'])
            if self.consistency is not None:
                losses.update(forward(src_img, None, mode='consistency_loss',
                                      stylised=style['image']))
        optim_wrapper.backward(losses['loss_g'] + losses.get('loss_sc', 0))
        self.cut_step('generator', optim_wrapper)
        self.cut_step('patch_mlp', optim_wrapper)
        losses['loss_d'] = loss_d
        return {f'cut.{k}': v.detach() for k, v in losses.items()}

    def cut_step(self, name, main):
        """Average a CUT network's gradients over ranks and step its optimiser."""
        average_gradients_(getattr(self, name))
        step_with_scaler(self._cut_optim[name], main)

    # -- losses (student passes) ---------------------------------------------------------------
    def source_feature_losses(self, feats, logits, labels):
        """Of the stylised source with Y^S: L_CAM, and λ_PCL L_PCL + L_Reg for t > 3000."""
        losses = self.cam_loss(feats, labels)
        if self.iter > self.pcl['start_iter']:
            losses.update(self.prototype_losses(feats, labels))
        return losses

    def target_feature_losses(self, feats, logits, labels, omega):
        """Of the mixed image with Y^M: L_CAM for t > 2000, λ_PCL L_PCL + L_Reg for t ≥ 3000."""
        losses = self.cam_loss(feats, labels) if self.iter > self.cam['mixed_start_iter'] else {}
        if self.iter >= self.pcl['start_iter']:
            losses.update(self.prototype_losses(feats, labels))
        return losses

    def target_contrast_loss(self, inputs, data_samples, labels, scale):
        """Step 8: ``scale``·(λ_PCL L_PCL + L_Reg) of the clean target with ``labels``."""
        return self.prototype_losses(self.student.extract_feat(inputs), labels, scale)

    def prototype_losses(self, feats, labels, scale=1.0):
        """λ_PCL L_PCL (Eq. 8–9) and λ_Reg L_Reg (A3) of the student projections g(feats)."""
        if self.pcl['weight'] == 0 and self.reg['weight'] == 0:
            return {}
        v = self.student.projection_head(feats)
        protos, tau = self.prototypes.prototypes, self.pcl['tau']
        return dict(
            loss_pcl=scale * self.pcl['weight'] * pixel_prototype_contrast(
                v, labels, protos, tau, self.pcl['num_samples']),
            loss_reg=scale * self.reg['weight'] * diversity_regularizer(
                v, protos, tau, self.reg['sign'], labels=labels))

    def consistency_loss(self, inputs, data_samples, stylised):
        """λ_SC L_SC (Eq. 11, spec §2.10): the original source X^S (``inputs``) and X̂^{S→T}
        (``stylised``, with its graph to 𝒢) through the student's backbone and g, frozen, then φ on
        the stylised side; only 𝒢 and φ receive gradients."""
        student = self.student
        with torch.no_grad():
            v = student.projection_head(student.extract_feat(inputs))
        with frozen(*[m for name, m in student.named_children() if name != 'consistency_proj']):
            v_hat = student.consistency_proj(
                student.projection_head(student.extract_feat(stylised)))
        if self.consistency['type'] == 'prototype':
            loss = semantic_consistency_loss(v, v_hat, self.prototypes.prototypes)
        else:
            with torch.autocast(device_type=v.device.type, enabled=False):
                loss = F.mse_loss(upcast(v_hat), upcast(v))
        return dict(loss_sc=self.consistency['weight'] * loss)
