"""A decode head's pixel losses with per-pixel weights and the global batch's divisor."""
import torch
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize

from ..utils.global_batch import sum_global, world_size


def decode_losses(head, logits, labels, weights=None, scale=1.0):
    """The losses of ``head`` (its ``loss_decode``) of ``logits`` against (B, H, W) ``labels``.

    Logits are resized to the labels; ``weights`` (B, H, W) weight each pixel (DACS: the mean over
    all pixels of w · CE, ignored ones counting 0, also for a loss whose ``avg_non_ignore``
    averages unweighted CE over the labelled pixels, e.g. RCCR's source CE; such a loss divides by
    the count of the global batch, so N processes train as one); every loss is multiplied by
    ``scale``. Keys are ``decode.<loss name>`` and ``decode.acc_seg``, as an mmseg
    ``EncoderDecoder``'s.
    """
    logits = resize(logits, size=labels.shape[1:], mode='bilinear',
                    align_corners=head.align_corners)
    loss_fns = head.loss_decode if isinstance(head.loss_decode, torch.nn.ModuleList) \
        else [head.loss_decode]

    def divisor(fn):
        if not getattr(fn, 'avg_non_ignore', False):
            return {}
        # the pixels of the global batch (all of them for a weighted loss, else the labelled
        # ones) over W: DDP's average of the ranks' losses is the single-process mean
        count = labels.numel() if weights is not None else \
            (labels != head.ignore_index).sum()
        total = sum_global(torch.as_tensor(count, dtype=torch.float32, device=labels.device))
        return dict(avg_factor=total / world_size())
    losses = {f'decode.{fn.loss_name}': scale * fn(logits, labels, weight=weights,
                                                   ignore_index=head.ignore_index, **divisor(fn))
              for fn in loss_fns}
    losses['decode.acc_seg'] = accuracy(logits, labels, ignore_index=head.ignore_index)
    return losses
