import copy
import logging
import os.path as osp

import torch
from mmengine.logging import print_log
from mmseg.registry import DATASETS
from torch.utils.data import Dataset

from .checks import (check_classes, check_image_folder, check_labelled_pixels, check_labels,
                     load_sample, loads_labels)
from .class_stats import (STATS_FILENAME, compute_sample_class_stats, read_sample_class_stats,
                          save_sample_class_stats, stale_stats_reason)
from .rare_class_sampling import RareClassSampler, stats_by_index

RCS_DEFAULTS = dict(class_temp=0.01, min_pixels=3000, min_crop_ratio=0.5, max_recrops=10,
                    stats_file=None, nproc=1)


@DATASETS.register_module()
class UDADataset(Dataset):
    """Paired samples for UDA: item i is ``dict(source=<sample>, target=<sample>)``.

    The source sample is source[i] (or drawn by rare-class sampling); the target sample is drawn
    uniformly with torch's RNG, which mmengine seeds per run and dataloader worker, so draws are
    reproducible under ``randomness=dict(seed=...)`` and differ between epochs and workers.

    Args:
        source (dict | Dataset): labelled source dataset (config or built).
        target (dict | Dataset): target dataset; labels are not needed.
        rare_class_sampling (dict, optional): enables DAFormer's rare-class sampling. Keys (defaults):
            ``class_temp`` (0.01), ``min_pixels`` (3000), ``min_crop_ratio`` (0.5: the crop must hold
            more than min_pixels * min_crop_ratio pixels of the drawn class), ``max_recrops`` (10),
            ``stats_file`` (``<source data_root>/sample_class_stats.json``; computed and cached there on
            first use when missing), ``nproc`` (1, processes for that computation).
        length (int, optional): virtual epoch length. Default: ``len(source)``.
    """

    def __init__(self, source, target, rare_class_sampling=None, length=None):
        self.source = _build_checked(source, require_labels=True)
        self.target = _build_checked(target, require_labels=False)
        src_classes = self.source.metainfo.get('classes')
        tgt_classes = self.target.metainfo.get('classes')
        if src_classes and tgt_classes and list(src_classes) != list(tgt_classes):
            raise ValueError(f'UDADataset: source {type(self.source).__name__} and target '
                             f'{type(self.target).__name__} have different classes: '
                             f'{src_classes} vs {tgt_classes}')
        self.length = len(self.source) if length is None else int(length)
        if self.length <= 0:
            raise ValueError(f'UDADataset: length must be > 0, got {self.length}')
        self.rcs = None
        if rare_class_sampling is None:
            # (rare-class sampling counts every label file and raises on an all-ignore set)
            check_labelled_pixels(self.source)
        else:
            unknown = set(rare_class_sampling) - set(RCS_DEFAULTS)
            if unknown:
                raise KeyError(f'UDADataset: unknown rare_class_sampling keys {sorted(unknown)}; '
                               f'valid keys: {sorted(RCS_DEFAULTS)}')
            self.rcs_cfg = {**RCS_DEFAULTS, **rare_class_sampling}
            stats_file, stats = self._source_class_stats()
            self.rcs = RareClassSampler(stats, self.rcs_cfg['class_temp'],
                                        self.rcs_cfg['min_pixels'], stats_file)

    @property
    def metainfo(self):
        return copy.deepcopy(self.source.metainfo)

    def __len__(self):
        return self.length

    def _source_class_stats(self):
        """Per-image class counts of the source, loaded from the stats file or computed and cached.

        A file that does not describe the source's label files (an image it lacks, or a fingerprint
        that differs: another dataset's file, labels converted again) is recomputed with a warning.
        """
        stats_file = self.rcs_cfg['stats_file'] or osp.join(self.source.data_root or '.',
                                                            STATS_FILENAME)
        if osp.isfile(stats_file):
            stats, fingerprint = read_sample_class_stats(stats_file)
            labels = [self.source.get_data_info(i)['seg_map_path'] for i in range(len(self.source))]
            stale = stale_stats_reason(stats_file, stats, fingerprint, labels)
            if stale is None:
                if fingerprint is None:
                    print_log(f'rare-class sampling: class statistics {stats_file} carry no '
                              'fingerprint of their label files (an older format), so they cannot '
                              'be checked against the data; delete the file to recompute them',
                              logger='current', level=logging.WARNING)
                return stats_file, stats_by_index(self.source, stats, stats_file)
            print_log(f'rare-class sampling: class statistics {stats_file} {stale}; recomputing '
                      f'them from {type(self.source).__name__} (data_root='
                      f'{self.source.data_root!r})', logger='current', level=logging.WARNING)
        else:
            print_log(f'rare-class sampling: computing class statistics of '
                      f'{type(self.source).__name__} into {stats_file}', logger='current')
        samples = compute_sample_class_stats(self.source, nproc=self.rcs_cfg['nproc'],
                                             ignore_index=self.source.ignore_index)
        try:
            save_sample_class_stats(stats_file, samples, self.source.ignore_index)
        except OSError as e:  # read-only data: keep them in memory only
            print_log(f'could not cache class statistics in {stats_file}: {e}',
                      logger='current', level=logging.WARNING)
        return stats_file, [counts for _, counts in samples]

    def _rare_class_source(self):
        """DAFormer RCS: draw class c and an image holding it, re-crop until the crop holds c."""
        c, idx = self.rcs.sample()
        min_crop_pixels = self.rcs_cfg['min_pixels'] * self.rcs_cfg['min_crop_ratio']
        sample = load_sample(self.source, idx, self.source.__getitem__)
        for _ in range(self.rcs_cfg['max_recrops']):
            if (sample['data_samples'].gt_sem_seg.data == c).sum() > min_crop_pixels:
                break
            sample = load_sample(self.source, idx, self.source.__getitem__)
        sample['data_samples'].set_metainfo(dict(rcs_class=c))
        return sample

    def __getitem__(self, idx):
        if self.rcs is not None:
            source = self._rare_class_source()
        else:
            source = load_sample(self.source, idx % len(self.source), self.source.__getitem__)
        target_idx = torch.randint(len(self.target), (1, )).item()
        target = load_sample(self.target, target_idx, self.target.__getitem__)
        return dict(source=source, target=target)


def _build_checked(dataset, require_labels):
    """Build a dataset config (any mmseg dataset) with clear errors for missing or empty data.

    ``require_labels=False`` (an unlabelled target) still checks the labels when the dataset's
    pipeline loads them.
    """
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dict(dataset, lazy_init=True))
        check_image_folder(dataset)
        dataset.full_init()
    require_labels = require_labels or loads_labels(dataset)
    if require_labels or dataset.metainfo.get('classes') is not None:
        check_classes(dataset)  # (an unlabelled target needs no class names)
    check_labels(dataset, require_labels)
    return dataset
