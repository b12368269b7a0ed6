from .submission import (SERVER_FORMATS, SERVERS, SubmissionWriter, check_output_dir,
                         cityscapes_labelid_lut, drop_label_loading, server_of_dataset)
from .uda_iou_metric import CITYSCAPES_SUBSETS, UDAIoUMetric

__all__ = [
    'UDAIoUMetric', 'CITYSCAPES_SUBSETS', 'SubmissionWriter', 'SERVERS', 'SERVER_FORMATS',
    'check_output_dir', 'cityscapes_labelid_lut', 'drop_label_loading', 'server_of_dataset'
]
