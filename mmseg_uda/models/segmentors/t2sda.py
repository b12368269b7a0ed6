import torch
from mmseg.registry import MODELS

from ..losses import PullContrast, dynamic_class_weights
from ..utils.augment import PhotometricAug
from ..utils.batch_norm import frozen_bn_statistics
from ..utils.checks import COUNT, NON_NEGATIVE, POSITIVE, PROBABILITY, check_keys
from ..utils.mixing import StrongPhotometricAug
from ..utils.sampling import labels_to_grid
from .dacs import DACS
from .uda_base import pixel_labels

TRANSLATIONS = ('FDA', 'PhotometricAug', 'StrongPhotometricAug')
# valid values of the method keys (utils/checks.py), checked when the model is built
PULL_RULES = dict(tau=POSITIVE, num_queries=COUNT, num_negatives=COUNT,
                  unreliable_ratio=PROBABILITY)
FDA_BETA = dict(low=0, high=0.5)  # the band's half-side as a share of the shorter side


@MODELS.register_module()
class T2SDA(DACS):
    """T2S-DA (Wang et al., "Pulling Target to Source: A New Perspective on Domain Adaptive Semantic
    Segmentation", §3 and Supp. A): DACS plus L_pull. One iteration:

    1. DACS (:class:`DACS`): L_source on x_s; the EMA teacher on the clean x_t gives ŷ_t, its
       confidence and backbone features; ClassMix and L_target;
    2. the pseudo-target T(x_s) = FDA(x_s, x_t): the source crop with the low-frequency amplitude
       of its paired target crop; it keeps the labels y_s (§3.2);
    3. keys from the teacher (no gradient): g_t(h_t(x_s)) and g_t(h_t(x_t)), the latter from the
       teacher pass of step 1; y_s on the feature grid, ŷ_t and its confidence pooled to it. These
       passes leave the teacher's BN running statistics as DACS's target pass set them (with
       ``teacher_bn='train'`` they would otherwise mix in the source images);
    4. w* = DRW of the teacher's target confidences (Eq. 12–13);
    5. queries g_s(h_s(T(x_s))) (student encoder + projector; the decode head is not run) and
       L_pull (Eq. 2–11, :class:`PullContrast`);
    6. L = L_source + L_target + λ L_pull; one optimiser step; EMA of encoder, head and projector.

    ``target_free=True`` is the paper's domain-generalisation setting (§4.4): plain source batches,
    L = L_source + λ L_pull, T(x_s) from ``translation`` (photometric, no target image), source
    negatives only, uniform class weights.

    Under DDP the source and mixed passes do not use the projector and the pull pass not the
    decode head: the wrapper needs ``find_unused_parameters=True``.

    Args:
        segmentor, ema, teacher_bn, predict_on, data_preprocessor and the DACS arguments: see
            :class:`DACS`.
        projection_head (dict): g, on the encoder's last output: two 3×3 Conv-BN-ReLU blocks to
            256-d (``final_act`` True: the paper's literal "Conv-BN-ReLU" ends in a ReLU), raw
            (``normalize=False``: the prototype is the normalised mean of raw features, Eq. 5).
        pull (dict | None): :class:`PullContrast` arguments; None: plain DACS (the baseline).
        pull_weight (float): λ (0.1).
        translation (list[dict]): T, applied in order: ``dict(type='FDA', beta=0.01)`` (with the
            paired target image), ``dict(type='PhotometricAug', ...)`` or
            ``dict(type='StrongPhotometricAug', ...)`` (their arguments without mean/std).
        query_image (str): image of the queries, ``'pseudo_target'`` (T2S-DA) or ``'source'``
            (Table S4: pull without the pseudo-target; Table 4: vanilla contrast).
        key_image (str): image of the teacher's source keys and prototypes, ``'source'`` (T2S-DA)
            or ``'pseudo_target'`` (Table 4: source → pseudo-target).
        class_weighting (dict): ``dict(type='dynamic', beta=0.5, absent='least_confident')`` (DRW),
            ``dict(type='uniform')`` (w* = 1/C) or ``dict(type='static', weights=[...])`` (SRW,
            normalised to sum 1).
        label_grid (dict): :func:`labels_to_grid` arguments ``mode`` (``'nearest'``: the cell's
            centre label; ``'ratio'``: majority ≥ ``min_ratio``) for y_s on the feature grid.
        reweight_target (bool): also weight the mixed image's target pixels of L_target by
            C·w*_ŷ (Table S4 row 2: DRW on the CE instead of L_pull; needs ``'dynamic'``).
        target_free (bool): the domain-generalisation setting.
    """
    STUDENT_MODES = DACS.STUDENT_MODES + ('pull_loss', )

    def __init__(self, segmentor,
                 projection_head=dict(type='ProjectionHead', in_channels=2048, channels=256,
                                      out_channels=256, num_convs=2, kernel_size=3,
                                      norm_cfg=dict(type='BN'), final_act=True, normalize=False),
                 pull=dict(), pull_weight=0.1, translation=(dict(type='FDA', beta=0.01), ),
                 query_image='pseudo_target', key_image='source',
                 class_weighting=dict(type='dynamic', beta=0.5), label_grid=dict(mode='nearest'),
                 reweight_target=False, target_free=False, **kwargs):
        if 'contrast' in kwargs:
            raise KeyError("T2SDA: `contrast` is CLDA's contrast of DACS; use `pull`")
        kwargs['student_heads'] = dict(kwargs.get('student_heads') or {},
                                       projection_head=projection_head)
        super().__init__(segmentor, **kwargs)
        owner = type(self).__name__
        check_keys(owner, dict(pull_weight=pull_weight, query_image=query_image,
                               key_image=key_image),
                   dict(pull_weight=NON_NEGATIVE, query_image=('pseudo_target', 'source'),
                        key_image=('source', 'pseudo_target')))
        check_keys(owner, pull, PULL_RULES, 'pull.')
        check_keys(owner, class_weighting, dict(beta=NON_NEGATIVE), 'class_weighting.')
        check_keys(owner, label_grid, dict(min_ratio=PROBABILITY), 'label_grid.')
        self.pull = None if pull is None else PullContrast(self.num_classes, **pull)
        self.pull_weight = pull_weight
        self.query_image, self.key_image = query_image, key_image
        self.target_free, self.reweight_target = target_free, reweight_target
        self.translation = [self.build_translation(t) for t in translation]
        self.class_weighting = dict(class_weighting)
        self.label_grid = dict(num_classes=self.num_classes, ignore_index=self.ignore_index,
                               **label_grid)
        kind = self.class_weighting.get('type')
        if kind not in ('dynamic', 'uniform', 'static'):
            raise ValueError("T2SDA: class_weighting type must be 'dynamic', 'uniform' or "
                             f"'static', got {kind!r}")
        if kind == 'static' and len(self.class_weighting.get('weights', ())) != self.num_classes:
            raise ValueError(f'T2SDA: class_weighting weights need {self.num_classes} values '
                             f"(one per class), got {self.class_weighting.get('weights')}")
        if reweight_target and kind != 'dynamic':
            raise ValueError("T2SDA: reweight_target needs class_weighting type 'dynamic'")
        if target_free and (kind == 'dynamic' or self.translation_needs_target):
            raise ValueError('T2SDA(target_free=True) has no target images: use '
                             "class_weighting=dict(type='uniform') and a photometric translation, "
                             f'got {kind!r} and {[t["type"] for t in translation]}')

    def build_translation(self, cfg):
        cfg = dict(cfg)
        kind = cfg.pop('type', None)
        if kind not in TRANSLATIONS:
            raise ValueError(f'T2SDA: translation type must be one of {TRANSLATIONS}, got {kind!r}')
        if kind == 'FDA':
            check_keys(type(self).__name__, cfg, dict(beta=FDA_BETA), 'translation.')
            return ('FDA', cfg.get('beta', 0.01))
        pre = self.data_preprocessor
        aug = dict(PhotometricAug=PhotometricAug, StrongPhotometricAug=StrongPhotometricAug)[kind]
        return (kind, aug(pre.mean.flatten().tolist(), pre.std.flatten().tolist(), **cfg))

    @property
    def translation_needs_target(self):
        return any(kind == 'FDA' for kind, _ in self.translation)

    # -- the iteration -------------------------------------------------------------------------
    def train_iteration(self, inputs, data_samples, optim_wrapper, forward):
        paired = isinstance(inputs, dict)
        if paired == self.target_free:
            raise ValueError(
                'T2SDA: target_free=True (domain generalisation) trains on a plain source '
                'dataloader, target_free=False on a UDADataset; got a '
                f'{"paired" if paired else "plain"} batch')
        if paired:
            return super().train_iteration(inputs, data_samples, optim_wrapper, forward)
        with optim_wrapper.optim_context(self):
            log_vars = self.backward(forward(inputs, data_samples, mode='source_loss'),
                                     optim_wrapper, 'src')
        log_vars.update(self.extra_losses(inputs, None, pixel_labels(data_samples), None,
                                          optim_wrapper, forward))
        return log_vars

    def pseudo_labels(self, probs):
        """DACS's pseudo-labels; with ``reweight_target`` the weights are multiplied by C·w*_ŷ."""
        label, weight, conf = super().pseudo_labels(probs)
        if self.reweight_target:
            weight = weight * self.num_classes * self.class_weights(dict(probs=probs))[label]
        return label, weight, conf

    def extra_losses(self, src_img, tgt_img, src_label, teacher, optim_wrapper, forward):
        """Steps 2–6: T(x_s), the teacher's keys, w*, λ L_pull (back-propagated here)."""
        if self.pull is None:
            return {}
        pseudo_target = self.translate(src_img, tgt_img)
        images = dict(source=src_img, pseudo_target=pseudo_target)
        model = self._teacher_for_inference()
        with torch.no_grad(), optim_wrapper.optim_context(self), frozen_bn_statistics(model):
            z_src = model.projection_head(model.extract_feat(images[self.key_image]))
            z_tgt = None if teacher is None else model.projection_head(teacher['feats'])
        grid = z_src.shape[2:]
        labels = labels_to_grid(src_label, grid, **self.label_grid)
        keys = dict(src_keys=rows(z_src), src_labels=labels.flatten())
        if teacher is not None:
            conf, pseudo = labels_to_grid(teacher['probs'], grid, 'mean').max(1)
            keys.update(tgt_keys=rows(z_tgt), tgt_labels=pseudo.flatten(), tgt_conf=conf.flatten())
        with optim_wrapper.optim_context(self):
            losses = forward(images[self.query_image], None, mode='pull_loss', labels=labels,
                             class_weights=self.class_weights(teacher), **keys)
        log_vars = self.backward(losses, optim_wrapper, 'pull')
        if self.debug_output is not None:
            self.debug_output['pseudo_target_img'] = self.denormalize(pseudo_target)
        return log_vars

    def translate(self, src_img, tgt_img):
        """T(x_s): the ``translation`` steps on the normalised source batch (FDA on raw pixels
        against the paired target image of the same batch index)."""
        img = src_img
        for kind, step in self.translation:
            if kind == 'FDA':
                img = self.fda(img, tgt_img, step)
            else:
                img = step(img)
        return img

    def class_weights(self, teacher):
        """w*: DRW of the teacher's target prediction (Eq. 12–13), uniform, or static (SRW)."""
        cfg = self.class_weighting
        if cfg['type'] == 'dynamic':
            conf, label = teacher['probs'].max(1)
            return dynamic_class_weights(conf, label, self.num_classes, cfg.get('beta', 0.5),
                                         cfg.get('absent', 'least_confident'))
        if cfg['type'] == 'static':
            w = torch.tensor(cfg['weights'], dtype=torch.float32,
                             device=self.data_preprocessor.mean.device)
            return w / w.sum()
        return None

    def pull_loss(self, inputs, data_samples, labels, **kwargs):
        """λ L_pull of the student's queries g_s(h_s(inputs)) (logged unweighted as ``pull``)."""
        z_q = self.student.projection_head(self.student.extract_feat(inputs))
        loss = self.pull(rows(z_q), labels.flatten(), **kwargs)
        return dict(loss_pull=self.pull_weight * loss, pull=loss.detach())


def rows(x):
    """(B, D, h, w) → (B·h·w, D), row-major over (b, y, x) like ``labels.flatten()``."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])
