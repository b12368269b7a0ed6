import logging

import torch
from mmengine.logging import print_log
from mmseg.models import SegDataPreProcessor
from mmseg.registry import MODELS

UDA_BRANCHES = ('source', 'target')


@MODELS.register_module()
class UDADataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` for the paired batches of :class:`UDADataset`.

    A paired batch ``dict(source=dict(inputs, data_samples), target=dict(...))`` is normalised and
    padded branch by branch with mmseg's own logic and returned as
    ``dict(inputs=dict(source=Tensor, target=Tensor), data_samples=dict(source=[...], target=[...]))``
    (the multi-branch layout of mmdet's semi-supervised detectors). A plain batch (validation, test,
    supervised training) is processed exactly as ``SegDataPreProcessor`` does. Accepts the same
    arguments as ``SegDataPreProcessor``.

    Raises ``ValueError`` for a zero in ``std`` (at construction) and for a normalised input with
    NaN or Inf, naming the images (``img_path``) at fault, before any network sees them. Warns once
    when a training image is smaller than ``size`` (mmseg's ``RandomCrop`` keeps an image smaller
    than its crop whole, and the padding here fills the rest with ignore labels).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._warned_small = False
        if self._enable_normalize and not bool((self.std != 0).all()):
            raise ValueError(f'data_preprocessor.std must not hold a zero, got '
                             f'{self.std.flatten().tolist()}')

    def forward(self, data, training=False):
        if not all(branch in data for branch in UDA_BRANCHES):
            if training:
                self._warn_smaller_than_size(data)
            out = super().forward(data, training)
            check_finite(out['inputs'], out['data_samples'])
            return out
        if training:
            for b in UDA_BRANCHES:
                self._warn_smaller_than_size(data[b], b)
        branches = {b: super(UDADataPreProcessor, self).forward(data[b], training)
                    for b in UDA_BRANCHES}
        for b, out in branches.items():
            check_finite(out['inputs'], out['data_samples'], b)
        return dict(inputs={b: out['inputs'] for b, out in branches.items()},
                    data_samples={b: out['data_samples'] for b, out in branches.items()})

    def _warn_smaller_than_size(self, data, branch=None):
        """Warn once (per preprocessor) about the first training image smaller than ``size``."""
        if self._warned_small or self.size is None:
            return
        data_samples = data.get('data_samples') or []
        for i, img in enumerate(data['inputs']):
            h, w = img.shape[-2:]
            if h >= self.size[0] and w >= self.size[1]:
                continue
            meta = data_samples[i].metainfo if i < len(data_samples) else {}
            where = f' of the {branch} batch' if branch else ''
            print_log(f'image {meta.get("img_path", f"sample {i}")}{where} is {h}x{w} (H x W; '
                      f'{meta.get("ori_shape")} as loaded) after the pipeline, smaller than the '
                      f'crop size {tuple(self.size)} (data_preprocessor.size): it is padded with '
                      'ignore labels, so part of every such crop trains on nothing; resize images '
                      "up to the crop size (the pipeline's Resize) or lower crop_size (warned "
                      'once)',
                      logger='current', level=logging.WARNING)
            self._warned_small = True
            return


def check_finite(inputs, data_samples, branch=None):
    """Raise ``ValueError`` naming the images whose normalised input holds NaN or Inf."""
    if not inputs.is_floating_point():
        return
    finite = torch.isfinite(inputs).flatten(1).all(1)
    if bool(finite.all()):
        return
    bad = (~finite).nonzero().flatten().tolist()
    names = [(data_samples[i].metainfo.get('img_path') if data_samples else None) or f'sample {i}'
             for i in bad]
    where = f'{branch} batch' if branch else 'batch'
    raise ValueError(f'non-finite (NaN/Inf) input in the {where}: {names}; check these images and '
                     'the transforms before the data preprocessor')
