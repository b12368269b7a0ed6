import os.path as osp

from mmseg.registry import DATASETS

from .condition_folders import ConditionFolderDataset

ACDC_CONDITIONS = ('fog', 'night', 'rain', 'snow')


@DATASETS.register_module()
class ACDCDataset(ConditionFolderDataset):
    """ACDC (Sakaridis et al., ICCV 2021): adverse conditions fog, night, rain and snow, labelled in
    the 19 Cityscapes trainIds (the ``*_gt_labelTrainIds.png`` files ship with ACDC).

    Layout as extracted from ``rgb_anon_trainvaltest.zip`` and ``gt_trainval.zip``::

        data_root/rgb_anon/<condition>/<split>/<sequence>/<name>_rgb_anon.png
        data_root/gt/<condition>/<split>/<sequence>/<name>_gt_labelTrainIds.png   (train, val)

    The ``<split>_ref`` reference images are never read. DAFormer's rearranged flat layout
    (``rgb_anon/<split>/*_rgb_anon.png``, ``gt/<split>/*_gt_labelTrainIds.png``) is read too when no
    condition folder exists; it does not record conditions, so it only serves all four.
    Splits: train 1600, val 406, test 2000 images (test: no public labels).

    Args:
        conditions (Sequence[str] | str, optional): any of ``('fog', 'night', 'rain', 'snow')``.
            Default: all four.
        **kwargs: see :class:`ConditionFolderDataset` (``split``, ``data_prefix`` with the roots
            ``img_path='rgb_anon'`` and, for labels, ``seg_map_path='gt'``).
    """
    CONDITIONS = ACDC_CONDITIONS
    DEFAULT_CONDITIONS = ACDC_CONDITIONS
    LAYOUT = 'rgb_anon/<condition>/<split>/<sequence>/*_rgb_anon.png'

    def folders(self):
        img_root = self.data_prefix['img_path']
        seg_root = self.data_prefix.get('seg_map_path')
        if any(osp.isdir(osp.join(img_root, c)) for c in ACDC_CONDITIONS):  # ACDC's own layout
            return [(c, osp.join(img_root, c, self.split),
                     None if seg_root is None else osp.join(seg_root, c, self.split))
                    for c in self.conditions]
        flat = osp.join(img_root, self.split)
        if not osp.isdir(flat):
            raise FileNotFoundError(
                f'ACDCDataset: neither {osp.join(img_root, self.conditions[0], self.split)} (ACDC '
                f'layout {self.LAYOUT}) nor {flat} (DAFormer\'s flat layout rgb_anon/<split>/) '
                'exists')
        if set(self.conditions) != set(ACDC_CONDITIONS):
            raise ValueError(
                f'ACDCDataset: conditions {self.conditions} need the ACDC layout {self.LAYOUT}; '
                f'DAFormer\'s flat layout in {flat} does not record the condition of an image')
        return [(None, flat, None if seg_root is None else osp.join(seg_root, self.split))]
