from .uda_iou_metric import CITYSCAPES_SUBSETS, UDAIoUMetric

__all__ = ['UDAIoUMetric', 'CITYSCAPES_SUBSETS']
