"""Datasets stored as one image folder per (split, condition), e.g. ACDC and Dark Zurich."""
import os.path as osp

from mmengine import fileio
from mmseg.datasets import BaseSegDataset, CityscapesDataset

from .base import CheckedSegDataset

SPLITS = ('train', 'val', 'test')


class _FolderListing(BaseSegDataset):
    """Lists the images of the folders that ``self.folders()`` names instead of scanning the whole
    ``data_prefix.img_path``. It sits below :class:`CheckedSegDataset` in the MRO of
    :class:`ConditionFolderDataset`, so that the checks of ``CheckedSegDataset.load_data_list`` run
    first and then call this listing."""

    def load_data_list(self):
        name = type(self).__name__
        data_list = []
        for condition, img_dir, seg_dir in self.folders():
            where = f'split {self.split!r}' + (f', condition {condition!r}' if condition else '')
            if not osp.isdir(img_dir):
                raise FileNotFoundError(f'{name}: image folder {img_dir} does not exist ({where}; '
                                        f'expected layout {self.LAYOUT})')
            if seg_dir is not None and not osp.isdir(seg_dir):
                hint = ('; the test split has no public labels: leave data_prefix.seg_map_path '
                        'unset and drop LoadAnnotations from the pipeline') \
                    if self.split == 'test' else ''
                raise FileNotFoundError(f'{name}: label folder {seg_dir} does not exist ({where}; '
                                        f'data_prefix.seg_map_path){hint}')
            files = sorted(fileio.list_dir_or_file(
                img_dir, list_dir=False, suffix=self.img_suffix, recursive=True,
                backend_args=self.backend_args))
            if not files:
                raise ValueError(f'{name}: no images with suffix {self.img_suffix!r} in '
                                 f'{img_dir} ({where})')
            for f in files:
                info = dict(img_path=osp.join(img_dir, f), condition=condition,
                            label_map=self.label_map, reduce_zero_label=self.reduce_zero_label,
                            seg_fields=[])
                if seg_dir is not None:
                    info['seg_map_path'] = osp.join(
                        seg_dir, f[:-len(self.img_suffix)] + self.seg_map_suffix)
                data_list.append(info)
        return data_list


class ConditionFolderDataset(CheckedSegDataset, _FolderListing):
    """Base of datasets whose images are grouped by split and recording condition (weather, time of
    day), labelled in the 19 Cityscapes trainIds.

    Only the folders of the chosen split and conditions are read, so reference images stored beside
    them (ACDC's and Dark Zurich's ``*_ref`` folders) never are. Each sample carries ``img_path``
    (e.g. to name test-server predictions) and ``condition``. Labels are optional, as for our other
    datasets: without ``data_prefix.seg_map_path`` the samples have none (unlabelled target, test
    split).

    Subclasses set ``CONDITIONS`` (valid names), ``DEFAULT_CONDITIONS``, ``LAYOUT`` (for errors) and
    ``folders()``.

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``. Default: ``'train'``.
        conditions (Sequence[str] | str, optional): the conditions to read. Default:
            ``DEFAULT_CONDITIONS``.
        data_prefix (dict): ``img_path``, the root of the image folders (default ``'rgb_anon'``),
            and optionally ``seg_map_path``, the root of the label folders (e.g. ``'gt'``).
        img_suffix (str): Default: ``'_rgb_anon.png'``.
        seg_map_suffix (str): Default: ``'_gt_labelTrainIds.png'``.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.

    Raises:
        ValueError: unknown split or condition (the message lists the valid ones).
        FileNotFoundError: a folder of the chosen split/conditions is missing (named).
    """
    METAINFO = CityscapesDataset.METAINFO
    CONDITIONS = ()
    DEFAULT_CONDITIONS = ()
    LAYOUT = ''

    def __init__(self, split='train', conditions=None, data_prefix=None,
                 img_suffix='_rgb_anon.png', seg_map_suffix='_gt_labelTrainIds.png', **kwargs):
        name = type(self).__name__
        if split not in SPLITS:
            raise ValueError(f'{name}: split {split!r} is not one of {SPLITS}')
        if conditions is None:
            conditions = self.DEFAULT_CONDITIONS
        if isinstance(conditions, str):
            conditions = (conditions, )
        conditions = tuple(dict.fromkeys(conditions))
        unknown = [c for c in conditions if c not in self.CONDITIONS]
        if unknown or not conditions:
            raise ValueError(f'{name}: unknown conditions {unknown or list(conditions)}; valid '
                             f'conditions: {self.CONDITIONS}')
        self.split, self.conditions = split, conditions
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         data_prefix=dict(img_path='rgb_anon') if data_prefix is None
                         else data_prefix, **kwargs)

    def folders(self):
        """``[(condition, image folder, label folder or None), ...]`` of the split and
        conditions."""
        raise NotImplementedError
