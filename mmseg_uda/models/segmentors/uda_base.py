import torch
from mmseg.models.segmentors import BaseSegmentor
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ...engine.hooks.finite_loss_hook import non_finite_losses
from ..utils.checks import check_keys
from ..utils.ema import EMA_RULES, EMATeacher, teacher_mode
from ..utils.fda import fda_source_to_target
from ..losses.decode_losses import decode_losses
from ..utils.global_batch import global_batch, iteration_seed, shared_seed
from ..utils.precision import upcast

_OWN_PREFIXES = ('student.', 'teacher.', 'imnet.')


@MODELS.register_module()
class UDABaseSegmentor(BaseSegmentor):
    """A student segmentor and its EMA teacher; subclasses define one UDA iteration.

    ``train_step`` preprocesses the paired batch, runs :meth:`train_iteration` (which back-propagates
    each loss as soon as it is computed, through :meth:`backward`), makes **one** optimiser step and
    then updates the teacher (DACS ramp, :class:`EMATeacher`). Student computations that need
    gradients go through ``forward(..., mode=<one of STUDENT_MODES>)`` of the object passed as
    ``forward``: the DDP wrapper when distributed (so its gradient hooks are armed), else ``self``.

    Args:
        segmentor (dict): config of the underlying mmseg segmentor (e.g. an ``EncoderDecoder``).
            Its ``data_preprocessor`` becomes this model's (it wins over ``data_preprocessor``,
            which mmengine's Runner fills from a config's top-level ``data_preprocessor``).
        ema (dict | None): :class:`EMATeacher` arguments: ``alpha`` (0.999), ``buffers``
            ('keep'). None: no teacher (a single-network method such as SDCA); the student predicts.
        teacher_bn (str): BN mode of the teacher's forward: ``'train'`` (batch statistics, as
            DAFormer's code) or ``'eval'`` (running statistics). Every Dropout kind, DropPath
            and attention dropout are off (:func:`teacher_mode`).
        predict_on (str): ``'student'`` (DAFormer evaluates the student) or ``'teacher'``.
        student_heads (dict, optional): extra heads attached to the student (and so copied into the
            teacher), name -> config, e.g. ``dict(projection_head=dict(type='ProjectionHead', ...))``.
        data_preprocessor (dict, optional): usually ``UDADataPreProcessor``.
        pretrained, train_cfg (None): accepted for ``mmseg.apis.init_model``, which sets both to
            None; the inner segmentor's are in ``segmentor``.
    """
    STUDENT_MODES = ()

    def __init__(self, segmentor, ema=dict(alpha=0.999, buffers='keep'), teacher_bn='train',
                 predict_on='student', student_heads=None, data_preprocessor=None, init_cfg=None,
                 pretrained=None, train_cfg=None):
        # mmseg.apis.init_model sets model.pretrained and model.train_cfg to None on every config;
        # a UDA model's ImageNet weights and train_cfg are the inner segmentor's
        for key, value in (('pretrained', pretrained), ('train_cfg', train_cfg)):
            if value is not None:
                raise ValueError(f'model.{key}={value!r}: a UDA model has no {key} of its own; '
                                 f'set model.segmentor.{key} instead')
        segmentor = dict(segmentor)
        inner_preprocessor = segmentor.pop('data_preprocessor', None)
        super().__init__(data_preprocessor=inner_preprocessor or data_preprocessor,
                         init_cfg=init_cfg)
        if teacher_bn not in ('train', 'eval'):
            raise ValueError(f"teacher_bn must be 'train' or 'eval', got {teacher_bn!r}")
        if predict_on not in ('student', 'teacher'):
            raise ValueError(f"predict_on must be 'student' or 'teacher', got {predict_on!r}")
        self.student = MODELS.build(segmentor)
        for name, head in (student_heads or {}).items():
            self.student.add_module(name, MODELS.build(head))
        if ema is None and predict_on == 'teacher':
            raise ValueError("predict_on='teacher' needs a teacher; got ema=None")
        check_keys(type(self).__name__, ema, EMA_RULES, 'ema.')
        self.teacher = None if ema is None else EMATeacher(self.student, **ema)
        self.teacher_bn = teacher_bn
        self.predict_on = predict_on
        self.debug_output = None
        # the run's seed (rank 0's, set at the first iteration) and the iterations done seed the
        # draws of the next iteration; buffers, so a resumed run draws what the original would
        self.register_buffer('draw_seed', torch.full((), -1, dtype=torch.long))
        self.register_buffer('steps_done', torch.zeros((), dtype=torch.long))

    # -- the UDA iteration -------------------------------------------------------------------
    custom_train_step = True  # DeviceAgnosticDDP hands train_step to us (see engine/ddp.py)

    def train_step(self, data, optim_wrapper, forward=None):
        """One UDA iteration: losses (backpropagated one by one), one optimiser step, EMA update.

        The iteration runs with global-batch semantics (:mod:`..utils.global_batch`): its random
        draws come from a generator seeded by the run's seed and the iteration count, the same on
        every rank, drawn for the global batch and sliced, so N processes train exactly as one
        process on the global batch.
        """
        forward = forward or self
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
        if self.draw_seed < 0:
            self.draw_seed.fill_(shared_seed())
        local = len(data['data_samples']['source']) if isinstance(data['data_samples'], dict) \
            else len(data['data_samples'])
        with global_batch(local, iteration_seed(self.draw_seed, self.steps_done)):
            log_vars = self.train_iteration(data['inputs'], data['data_samples'], optim_wrapper,
                                            forward)
        check_finite_losses(log_vars, int(self.steps_done) + 1)  # before the step changes weights
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        if self.teacher is not None:
            self.teacher.update_parameters(self.student)
        self.steps_done += 1
        return log_vars

    def train_iteration(self, inputs, data_samples, optim_wrapper, forward):
        """Compute and back-propagate the losses of one iteration; return the log variables."""
        raise NotImplementedError

    def backward(self, losses, optim_wrapper, prefix):
        """Sum a loss dict, back-propagate it (AMP-scaled) and return prefixed log variables."""
        loss, log_vars = self.parse_losses(losses)
        optim_wrapper.backward(loss)
        return {f'{prefix}.{k}': v for k, v in log_vars.items()}

    # -- the student's training pass: single-scale, or HRDA's multi-resolution one ----------------
    def student_outputs(self, inputs):
        """The student's backbone features and head output on ``inputs``.

        A plain segmentor gives (features, logits (B, C, h, w)). An HRDA student
        (:class:`HRDAEncoderDecoder`, which has ``multires_logits``) gives the features of its
        low-resolution context and its multi-resolution outputs (a dict: ``fused``, ``hr``,
        ``lr``, ``box``...); :meth:`pass_losses` scores either, :func:`feature_logits` gives the
        logits on the features' grid (what feature-level losses read).
        """
        if hasattr(self.student, 'multires_logits'):
            out = self.student.multires_logits(inputs)
            return out['feats'], out
        return feature_pass(self.student, inputs)

    def pass_losses(self, output, labels, weights=None, scale=1.0):
        """:meth:`decode_losses` of a :meth:`student_outputs` output; for HRDA
        (1 − λ_d) · of the fused logits + λ_d · of the detail logits on the detail crop of
        ``labels`` / ``weights`` (keys ``hr.decode.*``)."""
        if isinstance(output, dict):
            return self.student.multires_losses(output, labels, weights, self.decode_losses,
                                                scale)
        return self.decode_losses(output, labels, weights, scale)

    def decode_losses(self, logits, labels, weights=None, scale=1.0):
        """The student decode head's losses (:func:`~mmseg_uda.models.losses.decode_losses`)."""
        return decode_losses(self.student.decode_head, logits, labels, weights, scale)

    def denormalize(self, img):
        """Normalised images back to 0-255 (detached, float32) for debug images."""
        pre = self.data_preprocessor
        return (img.detach().float() * pre.std + pre.mean).clamp(0, 255)

    def fda(self, src_img, tgt_img, beta):
        """FDA of normalised images (:func:`fda_source_to_target` on their raw pixels, each source
        image with the target image of the same batch index), normalised again."""
        pre = self.data_preprocessor
        raw = fda_source_to_target(self.denormalize(src_img), self.denormalize(tgt_img), beta)
        return ((raw - pre.mean) / pre.std).to(src_img.dtype)

    def forward(self, inputs, data_samples=None, mode='tensor', **kwargs):
        if mode in self.STUDENT_MODES:
            return getattr(self, mode)(inputs, data_samples, **kwargs)
        return super().forward(inputs, data_samples, mode)

    def loss(self, inputs, data_samples):
        raise RuntimeError(
            f'{type(self).__name__} trains through its own train_step (several losses, one '
            "optimiser step). Under DDP use model_wrapper_cfg=dict(type='DeviceAgnosticDDP').")

    # -- the teacher -------------------------------------------------------------------------
    @property
    def teacher_model(self):
        if self.teacher is None:
            raise RuntimeError(f'{type(self).__name__} was built with ema=None: it has no teacher')
        return self.teacher.module

    def _teacher_for_inference(self):
        """The teacher with BN as ``teacher_bn`` and every stochastic layer off
        (:func:`teacher_mode`); every teacher pass goes through here."""
        return teacher_mode(self.teacher_model, self.teacher_bn == 'train')

    @torch.no_grad()
    def teacher_probs(self, inputs, scales=(1.0, )):
        """Teacher softmax probabilities averaged over input ``scales``, at the input size.

        Each scale resizes the input bilinearly, and its logits back to the input size, before the
        softmax (CLDA §5.1: probabilities averaged over scales). Returns the probabilities (at
        least float32) and the backbone features of the scale-1.0 pass (None if 1.0 is not among
        the scales).
        """
        model = self._teacher_for_inference()
        align = model.decode_head.align_corners
        probs, feats = 0, None
        for s in scales:
            x = inputs if s == 1.0 else resize(inputs, scale_factor=s, mode='bilinear',
                                               align_corners=align)
            if hasattr(model, 'context_logits'):  # HRDA: detail crops slid over the context
                logits, f = model.context_logits(x, return_feats=True)  # f: the LR context's
            else:
                f = model.extract_feat(x)
                logits = model.decode_head.forward(f)
            logits = resize(logits, size=inputs.shape[2:], mode='bilinear', align_corners=align)
            probs = probs + upcast(logits).softmax(1) / len(scales)
            if s == 1.0:
                feats = f
        return probs, feats

    # -- inference: student or teacher -------------------------------------------------------
    @property
    def inference_model(self):
        return self.student if self.predict_on == 'student' else self.teacher_model

    def extract_feat(self, inputs):
        return self.inference_model.extract_feat(inputs)

    def encode_decode(self, inputs, batch_img_metas):
        return self.inference_model.encode_decode(inputs, batch_img_metas)

    def predict(self, inputs, data_samples=None):
        return self.inference_model.predict(inputs, data_samples)

    def _forward(self, inputs, data_samples=None):
        return self.inference_model._forward(inputs, data_samples)

    # -- weights -----------------------------------------------------------------------------
    def init_weights(self):
        """Initialise the student (e.g. from ImageNet weights) and copy it into the teacher."""
        self.student.init_weights()
        if self.teacher is not None:
            self.teacher_model.load_state_dict(self.student.state_dict())

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Accept a plain mmseg checkpoint of the underlying segmentor: it initialises both student
        and teacher. Keys of this model's own children (e.g. CONFETI's ``generator.*``, carried
        with a segmentor by ``tools/train_pipeline.py``) stay where they are."""
        keys = [k for k in state_dict if k.startswith(prefix)]
        own = [k for k in keys if k[len(prefix):].startswith(_OWN_PREFIXES)]
        if keys and not own:
            children = set(self._modules) | set(self._parameters) | set(self._buffers)
            for k in keys:
                rest = k[len(prefix):]
                if rest.split('.')[0] in children:
                    continue
                value = state_dict.pop(k)
                state_dict[f'{prefix}student.{rest}'] = value
                if self.teacher is not None:
                    state_dict[f'{prefix}teacher.module.{rest}'] = value.clone()
            # a new run: its counters start from zero (they are not weights the checkpoint lacks)
            counters = {'draw_seed': self.draw_seed, 'steps_done': self.steps_done}
            if self.teacher is not None:
                counters['teacher.steps'] = self.teacher.steps
            for name, value in counters.items():
                state_dict.setdefault(f'{prefix}{name}', value.clone())
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def check_finite_losses(log_vars, iteration):
    """Raise, naming the losses, if a logged loss of this iteration is NaN or infinite."""
    values, bad = non_finite_losses(log_vars)
    if bad:
        raise RuntimeError(f'non-finite loss at iteration {iteration}: {bad}; no optimiser step '
                           f'was taken (all losses: {values})')


def feature_pass(model, img):
    """(backbone features, logits on their grid) of one single-scale pass of ``model``; for an
    HRDA model those of its low-resolution context (no detail crop)."""
    feats = model.extract_feat(img)
    head = model.decode_head
    return feats, (head.seg_logits(feats) if hasattr(head, 'seg_logits') else head.forward(feats))


def feature_logits(output):
    """The logits on the backbone features' grid of a :meth:`UDABaseSegmentor.student_outputs`
    output: the logits, or HRDA's low-resolution context logits."""
    return output['lr'] if isinstance(output, dict) else output


def pixel_labels(data_samples):
    """Stack the ``gt_sem_seg`` of data samples into a (B, H, W) long tensor."""
    return torch.stack([ds.gt_sem_seg.data.squeeze(0) for ds in data_samples]).long()
