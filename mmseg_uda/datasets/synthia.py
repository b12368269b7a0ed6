from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .base import CheckedSegDataset

# Cityscapes trainIds that SYNTHIA-RAND-CITYSCAPES never labels: terrain, truck, train.
SYNTHIA_ABSENT_CLASSES = (9, 14, 16)
# Class subsets of the SYNTHIA->Cityscapes protocol (16 and 13 classes, as DACS and DAFormer).
SYNTHIA_16_CLASSES = tuple(c for c in range(19) if c not in SYNTHIA_ABSENT_CLASSES)
SYNTHIA_13_CLASSES = tuple(c for c in SYNTHIA_16_CLASSES if c not in (3, 4, 5))


@DATASETS.register_module()
class SynthiaDataset(CheckedSegDataset):
    """SYNTHIA-RAND-CITYSCAPES in the Cityscapes trainId space (16 classes have pixels).

    The label space is Cityscapes' 19 trainIds, so one 19-way model is trained and evaluated on
    Cityscapes; terrain (9), truck (14) and train (16) have no pixels here and are scored over the 16 and
    13 class subsets. Labels are the ``*_labelTrainIds.png`` written by
    ``tools/dataset_converters/synthia.py`` from the 16-bit ``GT/LABELS`` PNGs.
    Layout: ``data_root/RGB/0000000.png``, ``data_root/GT/LABELS/0000000_labelTrainIds.png``.
    """
    METAINFO = CityscapesDataset.METAINFO

    def __init__(self, img_suffix='.png', seg_map_suffix='_labelTrainIds.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
