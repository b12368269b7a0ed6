"""IoU metric with per-class IoU keys and class-subset mIoUs (SYNTHIA 16/13-class protocol)."""
import numbers
import warnings
from typing import Dict, Optional

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from prettytable import PrettyTable

from ..datasets.synthia import SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES

# Cityscapes trainId subsets of the SYNTHIA->Cityscapes protocol.
CITYSCAPES_SUBSETS = dict(mIoU16=list(SYNTHIA_16_CLASSES), mIoU13=list(SYNTHIA_13_CLASSES))

_RESERVED_KEYS = ('aAcc', 'mIoU', 'mAcc', 'mDice', 'mFscore', 'mPrecision', 'mRecall')


@METRICS.register_module()
class UDAIoUMetric(IoUMetric):
    """:class:`IoUMetric` that also reports per-class IoUs and mIoUs over class subsets.

    Accumulation is the parent's (dataset-level intersection / union over all pixels,
    ``ignore_index`` excluded). Returned keys: the parent's (``aAcc``, ``mIoU``, ``mAcc`` by
    default), ``IoU.<class name>`` for every class and one key per subset name, all in percent
    rounded to 2 decimals. A subset mIoU is the unweighted mean of the IoUs of exactly its
    classes; a class with zero union (absent from both prediction and ground truth) has a NaN
    IoU and is excluded by ``nanmean``, as for the parent's ``mIoU`` (unless ``nan_to_num``).

    Args:
        class_subsets (dict, optional): Subset name -> list of class ids, e.g.
            :data:`CITYSCAPES_SUBSETS`. Ids are checked against the number of classes at the
            first :meth:`compute_metrics`. Defaults to None.
        **kwargs: Arguments of :class:`IoUMetric`.
    """

    def __init__(self, class_subsets: Optional[dict] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.class_subsets = self._parse_subsets(class_subsets)

    @staticmethod
    def _parse_subsets(class_subsets: Optional[dict]) -> Dict[str, tuple]:
        if class_subsets is None:
            return {}
        if not isinstance(class_subsets, dict):
            raise TypeError(f'class_subsets must be a dict, got {type(class_subsets)}')
        parsed = {}
        for name, ids in class_subsets.items():
            if not isinstance(name, str) or name in _RESERVED_KEYS or name.startswith('IoU.'):
                raise ValueError(f'class subset name {name!r} is not a str or clashes with a '
                                 'metric key')
            ids = list(ids)
            if not ids:
                raise ValueError(f'class subset {name!r} is empty')
            for i in ids:
                if not isinstance(i, numbers.Integral) or isinstance(i, bool):
                    raise ValueError(f'class subset {name!r}: id {i!r} is not an int')
            parsed[name] = tuple(int(i) for i in ids)
        return parsed

    def _check_subset_ids(self, num_classes: int) -> None:
        for name, ids in self.class_subsets.items():
            for i in ids:
                if not 0 <= i < num_classes:
                    raise ValueError(f'class subset {name!r}: id {i} is outside '
                                     f'[0, {num_classes})')

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Compute the parent's metrics plus ``IoU.<class>`` and subset mIoUs."""
        if self.format_only:
            return super().compute_metrics(results)
        class_names = self.dataset_meta['classes']
        self._check_subset_ids(len(class_names))
        metrics = super().compute_metrics(results)  # also prints the per-class table
        # python floats: the parent's float32 values re-rounded, so 66.67 == 66.67
        metrics = {k: round(float(v), 2) for k, v in metrics.items()}

        areas = tuple(zip(*results))
        iou = self.total_area_to_metrics(*(sum(a).double() for a in areas), ['mIoU'],
                                         self.nan_to_num, self.beta)['IoU']
        for name, value in zip(class_names, iou):
            metrics[f'IoU.{name}'] = round(float(value) * 100, 2)
        if not self.class_subsets:
            return metrics

        table = PrettyTable(field_names=['Subset', 'mIoU', 'Num classes'])
        with warnings.catch_warnings():  # all-NaN subset -> NaN without a RuntimeWarning
            warnings.simplefilter('ignore', RuntimeWarning)
            for name, ids in self.class_subsets.items():
                value = round(float(np.nanmean(iou[list(ids)])) * 100, 2)
                metrics[name] = value
                table.add_row([name, value, len(ids)])
        logger = MMLogger.get_current_instance()
        print_log('class subset results:', logger)
        print_log('\n' + table.get_string(), logger=logger)
        return metrics
