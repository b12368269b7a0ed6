from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .base import CheckedSegDataset


@DATASETS.register_module()
class GTA5Dataset(CheckedSegDataset):
    """GTA5 (Richter et al., ECCV 2016) in the 19-class Cityscapes trainId space.

    Labels are the ``*_labelTrainIds.png`` files written by ``tools/dataset_converters/gta.py``
    (GTA5 ids are Cityscapes labelIds, mapped as cityscapesScripts' ``labels.py``).
    Layout: ``data_root/images/00001.png``, ``data_root/labels/00001_labelTrainIds.png``.
    """
    METAINFO = CityscapesDataset.METAINFO

    def __init__(self, img_suffix='.png', seg_map_suffix='_labelTrainIds.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
