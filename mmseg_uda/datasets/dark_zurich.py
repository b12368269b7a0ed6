import os.path as osp

from mmseg.registry import DATASETS

from .condition_folders import ConditionFolderDataset

DARK_ZURICH_CONDITIONS = ('day', 'twilight', 'night')


@DATASETS.register_module()
class DarkZurichUDADataset(ConditionFolderDataset):
    """Dark Zurich (Sakaridis et al., ICCV 2019): night driving in Zurich, labelled in the 19
    Cityscapes trainIds, read by split and condition.

    (mmseg registers ``DarkZurichDataset``, which scans one folder given by ``data_prefix``; this
    class chooses the folders from ``split`` and ``conditions``, hence its own name.)

    Layout as extracted from ``Dark_Zurich_train_anon.zip``, ``Dark_Zurich_val_anon.zip`` and
    ``Dark_Zurich_test_anon_withoutGt.zip``::

        data_root/rgb_anon/<split>/<condition>/<sequence>/<name>_rgb_anon.png
        data_root/gt/val/night/<sequence>/<name>_gt_labelTrainIds.png

    train: day, twilight and night images without labels; val: 50 night images with labels; test:
    151 night images without public labels. The ``<split>_ref`` reference images are never read.

    Args:
        conditions (Sequence[str] | str, optional): any of ``('day', 'twilight', 'night')``
            (val and test hold night only). Default: ``('night',)``, DAFormer's target.
        **kwargs: see :class:`ConditionFolderDataset` (``split``, ``data_prefix`` with the roots
            ``img_path='rgb_anon'`` and, for labels, ``seg_map_path='gt'``).
    """
    CONDITIONS = DARK_ZURICH_CONDITIONS
    DEFAULT_CONDITIONS = ('night', )
    LAYOUT = 'rgb_anon/<split>/<condition>/<sequence>/*_rgb_anon.png'

    def folders(self):
        img_root = self.data_prefix['img_path']
        seg_root = self.data_prefix.get('seg_map_path')
        return [(c, osp.join(img_root, self.split, c),
                 None if seg_root is None else osp.join(seg_root, self.split, c))
                for c in self.conditions]
