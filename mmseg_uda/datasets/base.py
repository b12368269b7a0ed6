"""Base class of our datasets: mmseg's ``BaseSegDataset`` with early, explicit input checks."""
from mmseg.datasets import BaseSegDataset

from .checks import check_classes, check_image_folder, check_labels, load_sample


class CheckedSegDataset(BaseSegDataset):
    """``BaseSegDataset`` that fails at construction with a message naming the path at fault.

    Also stores ``num_classes`` in every sample so :class:`ValidateSegLabel` can check label values,
    and names the image and label files when a transform fails on a sample.
    """

    def load_data_list(self):
        check_classes(self)
        check_image_folder(self)
        data_list = super().load_data_list()
        num_classes = len(self._metainfo['classes'])
        for info in data_list:
            info['num_classes'] = num_classes
        return data_list

    def full_init(self):
        if self._fully_initialized:
            return
        super().full_init()
        check_labels(self)

    def prepare_data(self, idx):
        return load_sample(self, idx, super().prepare_data)
