import torch
import torch.nn.functional as F
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import nn

from ..losses import DistributionContrast
from ..utils.augment import PhotometricAug
from ..utils.checks import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, PROBABILITY, check_keys
from ..utils.global_batch import gather_global, gather_global_with_grad
from ..utils.load_record import add_load_record, record_load
from ..utils.precision import upcast
from ..utils.sampling import labels_to_grid
from .dacs import DACS
from .uda_base import UDABaseSegmentor, feature_logits, feature_pass, pixel_labels

LEVELS = ('feat', 'out')
# valid values of the method keys (utils/checks.py), checked when the model is built
CONTRAST_RULES = dict(tau=POSITIVE, momentum=PROBABILITY, loss_weight=NON_NEGATIVE, eps=POSITIVE)
PHOTOMETRIC_RULES = dict(jitter_prob=PROBABILITY, grayscale_prob=PROBABILITY,
                         cutout_max=NON_NEGATIVE_INT)


def check_sdca_keys(owner, feature_contrast, output_contrast, target_threshold):
    """The keys SDCA and SDCADACS share (utils/checks.py)."""
    check_keys(owner, dict(target_threshold=target_threshold),
               dict(target_threshold=PROBABILITY))
    check_keys(owner, feature_contrast, CONTRAST_RULES, 'feature_contrast.')
    check_keys(owner, output_contrast, CONTRAST_RULES, 'output_contrast.')


class SDCALevels(nn.Module):
    """SDCA's two levels of :class:`DistributionContrast` (Eq. 15–16): ``feat`` on the backbone
    feature map F (the decode head's input, or ``feature_index``) and ``out`` on the raw logits O
    at the head's resolution, each with its class statistics. A level whose config is None is off.

    Args:
        student (nn.Module): the student segmentor; the dimensions come from its decode head.
        feat (dict | None): :class:`DistributionContrast` arguments of the feature level.
        out (dict | None): those of the output (logit) level.
        feature_index (int | None): backbone output of the feature level. None: the decode head's
            input (ResNet layer4 for DeepLabV2); needed for multi-input heads (DAFormer).
    """

    def __init__(self, student, feat, out, feature_index=None):
        super().__init__()
        head = student.decode_head
        indices = list(head.in_index) if isinstance(head.in_index, (list, tuple)) \
            else [head.in_index]
        if feature_index is None:
            if len(indices) > 1:
                raise KeyError(f'SDCA: {type(head).__name__} reads several backbone outputs '
                               f'{indices}; set `feature_index` to one of them')
            feature_index = indices[0]
        if feature_index not in indices:
            raise KeyError(f'SDCA: feature_index {feature_index} is not a decode head input '
                           f'{indices}, so its width is unknown')
        widths = head.in_channels if isinstance(head.in_channels, (list, tuple)) else None
        if widths is None and len(indices) > 1:  # resize_concat keeps only the sum
            raise KeyError(f'SDCA: {type(head).__name__} ({head.input_transform}) does not keep '
                           'the width of each input; use a head with per-input in_channels')
        feat_dim = head.in_channels if widths is None else widths[indices.index(feature_index)]
        self.feature_index = feature_index
        k = head.num_classes
        self.feat = None if feat is None else DistributionContrast(k, feat_dim, **feat)
        self.out = None if out is None else DistributionContrast(k, k, **out)

    def contrasts(self):
        """(name, :class:`DistributionContrast`) of each active level."""
        return [(n, getattr(self, n)) for n in LEVELS if getattr(self, n) is not None]

    @property
    def active(self):
        return bool(self.contrasts())

    def levels(self, feats, logits):
        """(name, contrast, map) of each active level: F (B, A, h, w) and O (B, K, h', w')."""
        maps = dict(feat=feats[self.feature_index], out=logits)
        return [(name, contrast, maps[name]) for name, contrast in self.contrasts()]

    @property
    def initialized(self):
        return all(contrast.initialized for _, contrast in self.contrasts())

    @torch.no_grad()
    def update(self, feats, logits, labels):
        """Eq. 2–4: merge the source pixels (labels sampled on each level's grid) in."""
        for _, contrast, x in self.levels(feats, logits):
            contrast.update(*flatten(x, labels))

    def losses(self, feats, logits, labels, domain):
        """L̄ averaged over the valid pixels of one domain at each level (Eq. 15–16)."""
        return {f'loss_{name}_{domain}': contrast(*flatten(x, labels))
                for name, contrast, x in self.levels(feats, logits)}


class SDCAStatistics:
    """What :class:`ClassStatisticsInitHook` calls on a model with ``self.sdca`` levels, and the
    warm-start check: with ``require_warm_start``, the statistics pass and training refuse a
    network that no checkpoint loaded (then the buffer ``warm_started``, carried by
    checkpoints)."""

    def add_warm_start_record(self, require_warm_start):
        self.require_warm_start = require_warm_start
        if require_warm_start:  # only then, so the state dict of other models stays as it was
            add_load_record(self, 'warm_started')

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Weights of the network (``student.*``, or a plain segmentor's) in a checkpoint without a
        record (the warm-up's ``load_from``) mark the network warm-started."""
        record_load(self, state_dict, prefix, 'warm_started',
                    ('student.', ) + tuple(f'{name}.' for name in self.student._modules))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def check_warm_start(self):
        if self.require_warm_start and not bool(self.warm_started):
            raise RuntimeError(
                f'{type(self).__name__}: the network was not loaded from a checkpoint, so the '
                'adaptation (and its class statistics) would start from ImageNet weights; it needs '
                'the source-only warm-up (Alg. 1 line 1): set load_from to its checkpoint, or run '
                'python tools/train_pipeline.py configs/sdca/pipeline_gta2cs.py (or '
                'pipeline_synthia2cs.py), which sets it; or set model.require_warm_start=False '
                'to start from ImageNet anyway.')

    @property
    def statistics_initialized(self):
        return self.sdca.initialized

    @torch.no_grad()
    def update_statistics(self, inputs, data_samples):
        """Merge a labelled source batch into the statistics with the network as it is."""
        self.check_warm_start()
        self.sdca.update(*feature_pass(self.student, inputs), pixel_labels(data_samples))

    def train_step(self, data, optim_wrapper, forward=None):
        self.check_warm_start()
        return super().train_step(data, optim_wrapper, forward)


def flatten(x, labels):
    """Pixels (N, A) of a (B, A, h, w) map and their (N,) labels sampled on its grid."""
    labels = labels_to_grid(labels, x.shape[2:])
    return x.permute(0, 2, 3, 1).flatten(0, 2), labels.flatten()


@MODELS.register_module()
class SDCA(SDCAStatistics, UDABaseSegmentor):
    """SDCA (Li et al., "Semantic Distribution-aware Contrastive Adaptation for Semantic
    Segmentation", §3.2 and Alg. 1): one network, no teacher, no mixing. One iteration
    (Algorithm 1, lines 4–7):

    1. F_s, O_s = student(x_s); F_t, O_t = student(x_t) (separate passes, gradients in all);
    2. L_sup = CE(P_s, Y_s) + λ_lov Lovász(P_s, Y_s) (the decode head's ``loss_decode`` and mmseg's
       Lovász-softmax on the upsampled logits; Eq. 17, §3.3);
    3. M_s = Y_s sampled on each grid; M_t = argmax O_t where max softmax(O_t) ≥ δ, else ignore
       (Eq. 5, the network's own detached prediction);
    4. the class statistics (μ_k, Σ_k) of F and O are updated with the source pixels (Eq. 2–4),
       before the loss as in the authors' code;
    5. L = L_sup + λ_feat L_feat + λ_out L_out, each level the mean over the source pixels plus the
       mean over the confident target pixels of the closed-form bound (Eq. 13–16, 18).

    The statistics start from a pass over the source set with the source-only model
    (:class:`ClassStatisticsInitHook`, Alg. 1 line 2) and are summed over ranks at every update.

    Args:
        segmentor, data_preprocessor: see :class:`UDABaseSegmentor` (``ema=None``: no teacher).
        lovasz_weight (float): λ_lov (0.75); 0: CE only (Eq. 17, Table 5 "Source Only").
        feature_contrast (dict | None): :class:`DistributionContrast` arguments of L_feat
            (``tau`` 100, ``covariance`` 'diag', ``stats_space`` 'raw', ``loss_weight`` λ_feat
            1.0); None: off (Table 5 "feat. only" is ``output_contrast=None``).
        output_contrast (dict | None): the same for L_out (λ_out 1.0).
        feature_index (int | None): see :class:`SDCALevels`.
        target_threshold (float): δ of Eq. 5 (0.9).
        target_losses (bool): the target terms of L_feat / L_out (False: source terms only).
        source_aug (dict | None): :class:`PhotometricAug` arguments for the source images on the
            device (the authors' code: colour jitter (0.5, 0.5, 0.5, 0.2) always, grayscale 0.2;
            its 3x3 blur belongs in the data pipeline); None: off.
        require_warm_start (bool): refuse to train (and to initialise the statistics) unless the
            network was loaded from a checkpoint (``load_from``: the source-only warm-up). The
            configs of the adaptation stage set it; False (default) starts from whatever weights
            the network has.

    With both contrasts off this is the source-only warm-up (CE + λ_lov Lovász; no target pass).
    """
    STUDENT_MODES = ('sdca_losses', )

    def __init__(self, segmentor, lovasz_weight=0.75, feature_contrast=dict(tau=100.0),
                 output_contrast=dict(tau=100.0), feature_index=None, target_threshold=0.9,
                 target_losses=True, source_aug=None, require_warm_start=False, ema=None,
                 **kwargs):
        super().__init__(segmentor, ema=ema, **kwargs)
        self.add_warm_start_record(require_warm_start)
        check_sdca_keys(type(self).__name__, feature_contrast, output_contrast, target_threshold)
        check_keys(type(self).__name__, dict(lovasz_weight=lovasz_weight),
                   dict(lovasz_weight=NON_NEGATIVE))
        check_keys(type(self).__name__, source_aug, PHOTOMETRIC_RULES, 'source_aug.')
        pre = self.data_preprocessor
        self.source_aug = None if source_aug is None else PhotometricAug(
            pre.mean.flatten().tolist(), pre.std.flatten().tolist(), **source_aug)
        self.lovasz = MODELS.build(dict(type='LovaszLoss', per_image=False, reduction='none',
                                        loss_weight=lovasz_weight)) if lovasz_weight else None
        self.sdca = SDCALevels(self.student, feature_contrast, output_contrast, feature_index)
        self.target_threshold, self.target_losses = target_threshold, target_losses
        self.ignore_index = self.student.decode_head.ignore_index

    def train_iteration(self, inputs, data_samples, optim_wrapper, forward):
        src_img = inputs['source']
        if self.source_aug is not None:
            src_img = self.source_aug(src_img)
        with optim_wrapper.optim_context(self):
            losses = forward(src_img, data_samples['source'], mode='sdca_losses',
                             tgt_img=inputs['target'])
        return self.backward(losses, optim_wrapper, 'sdca')

    def sdca_losses(self, src_img, src_samples, tgt_img):
        """Steps 1–5 (one student forward call, so DDP sees every pass)."""
        src_label = pixel_labels(src_samples)
        src_feats, src_out = self.student_outputs(src_img)  # HRDA: LR context features
        src_logits = feature_logits(src_out)
        losses = {f'src.{k}': v for k, v in self.pass_losses(src_out, src_label).items()}
        if self.lovasz is not None:
            pred = src_out['fused'] if isinstance(src_out, dict) else src_logits  # HRDA: fused
            # float32: mmseg's Lovász builds its ground truth in float32 (a float64 input fails)
            logits_up = resize(pred.float(), size=src_label.shape[1:], mode='bilinear',
                               align_corners=self.student.decode_head.align_corners)
            losses['src.loss_lovasz'] = self.batch_lovasz(logits_up, src_label)
        self.sdca.update(src_feats, src_logits, src_label)
        losses.update(self.sdca.losses(src_feats, src_logits, src_label, 'src'))
        if self.target_losses and self.sdca.active:
            tgt_feats, tgt_logits = feature_pass(self.student, tgt_img)  # no decode loss
            tgt_label = self.target_mask(tgt_logits)
            losses.update(self.sdca.losses(tgt_feats, tgt_logits, tgt_label, 'tgt'))
            losses['tgt.confident'] = (tgt_label != self.ignore_index).float().mean()
            self.debug_output = dict(
                source_img=self.denormalize(src_img), source_label=src_label,
                target_img=self.denormalize(tgt_img),
                pseudo_label=F.interpolate(tgt_label[:, None].float(), size=tgt_img.shape[2:],
                                           mode='nearest')[:, 0].long())
        return losses

    def batch_lovasz(self, logits, labels):
        """mmseg's Lovász-softmax over the labelled pixels of the (global) batch.

        The Lovász extension of the batch Jaccard index does not decompose over images, so under
        DDP every rank evaluates it on the pixels of all ranks (gathered with their gradients,
        :func:`gather_global_with_grad`), as one process does on the whole batch.
        """
        rows = logits.permute(0, 2, 3, 1).reshape(-1, logits.shape[1])
        labels = labels.flatten()
        valid = labels != self.ignore_index
        rows, labels = gather_global_with_grad(rows[valid]), gather_global(labels[valid])
        if labels.numel() == 0:  # mmseg's Lovász of no pixel is the mean of nothing: NaN
            return logits.sum() * 0
        return self.lovasz(rows.t()[None, ..., None], labels[None, :, None],
                           ignore_index=self.ignore_index)

    @torch.no_grad()
    def target_mask(self, logits):
        """M_t (Eq. 5): the prediction where its softmax confidence is ≥ δ, else ignore."""
        conf, label = upcast(logits.detach()).softmax(1).max(1)
        return torch.where(conf >= self.target_threshold, label,
                           torch.full_like(label, self.ignore_index))


@MODELS.register_module()
class SDCADACS(SDCAStatistics, DACS):
    """DACS plus SDCA's distribution-aware contrast in one stage (``sdca_dacs``, not a paper).

    The source pass adds the source terms of L_feat / L_out and updates the statistics; the
    ClassMix pass adds the target terms over the mixed image's target pixels whose EMA-teacher
    confidence on the clean target is ≥ δ (SDCA's Eq. 5 threshold, the teacher's prediction instead
    of the student's own: DACS already computes it, on the clean image).

    Args:
        feature_contrast, output_contrast, feature_index, target_threshold,
            require_warm_start: see :class:`SDCA`.
        **kwargs: :class:`DACS` arguments.
    """

    def __init__(self, segmentor, feature_contrast=dict(tau=100.0),
                 output_contrast=dict(tau=100.0), feature_index=None, target_threshold=0.9,
                 require_warm_start=False, **kwargs):
        if 'contrast' in kwargs:
            raise KeyError("SDCADACS: `contrast` is CLDA's contrast of DACS; use "
                           '`feature_contrast` / `output_contrast`')
        super().__init__(segmentor, **kwargs)
        self.add_warm_start_record(require_warm_start)
        check_sdca_keys(type(self).__name__, feature_contrast, output_contrast, target_threshold)
        self.sdca = SDCALevels(self.student, feature_contrast, output_contrast, feature_index)
        self.target_threshold = target_threshold

    def mixed_target_labels(self, pseudo_label, conf, mask):
        confident = (conf >= self.target_threshold) & ~mask
        return dict(contrast_label=torch.where(confident, pseudo_label, self.ignore_index))

    def source_feature_losses(self, feats, logits, labels):
        self.sdca.update(feats, logits, labels)
        return self.sdca.losses(feats, logits, labels, 'src')

    def target_feature_losses(self, feats, logits, labels, omega):
        return self.sdca.losses(feats, logits, labels, 'tgt')
