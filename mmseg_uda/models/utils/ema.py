import torch
from mmengine.model import BaseAveragedModel
from torch import nn
from torch.nn.modules.dropout import _DropoutNd

from .checks import BETA, COUNT
from .dist import average_over_ranks_

BUFFER_MODES = ('keep', 'copy', 'ema')
EMA_RULES = dict(alpha=BETA, buffers=BUFFER_MODES, interval=COUNT)  # model.ema (utils/checks.py)
# stochastic-depth layers of mmcv, timm, mmpretrain and torchvision, known by class name
_DROP_PATH_NAMES = ('DropPath', 'DropBlock', 'StochasticDepth')


def is_stochastic(module):
    """Whether ``module`` draws random numbers in train mode: every ``Dropout`` kind (``Dropout``,
    ``Dropout1d/2d/3d``, ``AlphaDropout``, ``FeatureAlphaDropout``, mmcv's), drop path / stochastic
    depth, and ``nn.MultiheadAttention`` with attention dropout."""
    if isinstance(module, _DropoutNd) or type(module).__name__ in _DROP_PATH_NAMES:
        return True
    return isinstance(module, nn.MultiheadAttention) and module.dropout > 0


def teacher_mode(model, bn_train):
    """Put a teacher (a frozen network that makes targets) in its prediction mode and return it.

    BN layers normalise with batch statistics (``bn_train=True``: DAFormer's teacher forward while
    the wrapper is in train mode) or running statistics; every stochastic layer
    (:func:`is_stochastic`) is off, so two passes on the same input give the same output.
    """
    model.train(bn_train)
    if bn_train:
        for m in model.modules():
            if is_stochastic(m):
                m.training = False
    return model


class EMATeacher(BaseAveragedModel):
    """Mean teacher with the DACS ramp: θ' ← α_t θ' + (1 − α_t) θ, α_t = min(1 − 1/(t + 1), α).

    t counts the updates (0 for the first), so the first update copies the student. The ramp is the
    original DACS code's (Tranheden et al., WACV 2021, ``vikolss/DACS`` ``update_ema_variables``);
    DAFormer (Hoyer et al., CVPR 2022) kept it unchanged. It lets the teacher follow the student
    quickly at the start.

    Args:
        model (nn.Module): the student; the teacher is a frozen deep copy in ``self.module``.
        alpha (float): the final EMA coefficient α (DACS 0.99, DAFormer 0.999).
        buffers (str): what the teacher's buffers (BN statistics) do at an update:
            ``'keep'``: nothing; they change only through the teacher's own train-mode forwards
            (DACS/DAFormer: only parameters are averaged); ``'copy'``: take the student's;
            ``'ema'``: averaged like parameters (integer buffers are copied). In every mode the
            teacher's floating-point buffers are then averaged over ranks, so every rank holds the
            same teacher although each rank's BN statistics saw its own batches (this matters when
            the teacher predicts: its running statistics are the ones evaluated).
        interval (int): update every ``interval``-th call only (t still counts every call). CLDA's
            teacher, a hard copy of the student every 200 iterations, is ``alpha=0,
            buffers='copy', interval=200``.
    """

    def __init__(self, model, alpha=0.999, buffers='keep', interval=1):
        if not 0 <= alpha < 1:
            raise ValueError(f'EMA alpha must be in [0, 1), got {alpha}')
        if buffers not in BUFFER_MODES:
            raise ValueError(f'EMA buffers must be one of {BUFFER_MODES}, got {buffers!r}')
        if interval < 1:
            raise ValueError(f'EMA interval must be >= 1, got {interval}')
        super().__init__(model, update_buffers=False)
        self.alpha = alpha
        self.buffers_mode = buffers
        self.interval = interval

    def momentum(self, step):
        """α_t of the DACS ramp for update number ``step`` (0-based)."""
        return min(1 - 1 / (step + 1), self.alpha)

    @torch.no_grad()
    def update_parameters(self, model):
        step = int(self.steps)
        self.steps += 1
        if step % self.interval:
            return
        alpha = self.momentum(step)
        avg = [p for p in self.module.parameters()]
        src = [p.detach() for p in model.parameters()]
        if self.buffers_mode == 'ema':
            pairs = list(zip(self.module.buffers(), model.buffers()))
            avg += [b for b, _ in pairs if b.dtype.is_floating_point]
            src += [s for b, s in pairs if b.dtype.is_floating_point]
            for b, s in pairs:
                if not b.dtype.is_floating_point:
                    b.copy_(s)
        elif self.buffers_mode == 'copy':
            for b, s in zip(self.module.buffers(), model.buffers()):
                b.copy_(s)
        # θ' ← α θ' + (1 − α) θ, one fused call over all tensors
        torch._foreach_lerp_(avg, src, 1 - alpha)
        average_over_ranks_(b for b in self.module.buffers() if b.dtype.is_floating_point)
