"""Rare-class sampling (RCS) of DAFormer (Hoyer et al., CVPR 2022, Sec. 3.5)."""
import logging
import os.path as osp

import torch
from mmengine.logging import print_log


def rcs_class_probs(class_pixels, temperature):
    """Sampling probability of each class, Eq. (6) of DAFormer: p(c) ∝ exp((1 − f_c) / T).

    Args:
        class_pixels (dict[int, int]): total pixels of each class over the source set.
        temperature (float): T; smaller values favour rare classes more (DAFormer: 0.01).

    Returns:
        tuple[list[int], torch.Tensor]: the classes with pixels and their probabilities (float64).
    """
    if temperature <= 0:
        raise ValueError(f'rare_class_sampling.class_temp must be > 0, got {temperature}')
    classes = sorted(c for c, n in class_pixels.items() if n > 0)
    if not classes:
        raise ValueError('rare-class sampling: the source labels contain no labelled pixel')
    pixels = torch.tensor([class_pixels[c] for c in classes], dtype=torch.float64)
    freq = pixels / pixels.sum()
    return classes, torch.softmax((1 - freq) / temperature, dim=0)


class RareClassSampler:
    """Draws (class, source image) pairs: c ~ p(c), then an image holding > ``min_pixels`` of c.

    Args:
        sample_stats (list[dict[int, int]]): class pixel counts of each source image, by dataset index.
        class_temp (float): temperature T. Default: 0.01.
        min_pixels (int): an image is a candidate for class c if it holds more than this many pixels of
            c. Default: 3000 (DAFormer, for full-size GTA5 labels; scale it with the image area).
        stats_name (str): where the statistics come from, for messages.
    """

    def __init__(self, sample_stats, class_temp=0.01, min_pixels=3000, stats_name='statistics'):
        totals = {}
        for counts in sample_stats:
            for c, n in counts.items():
                totals[c] = totals.get(c, 0) + n
        if not any(totals.values()):
            raise ValueError(f'rare-class sampling: no pixel of the source is labelled according to '
                             f'{stats_name} (all are the ignore index); check the label files and '
                             "the dataset's label_map / reduce_zero_label")
        classes, probs = rcs_class_probs(totals, class_temp)
        self.images_per_class = {
            c: [i for i, counts in enumerate(sample_stats) if counts.get(c, 0) > min_pixels]
            for c in classes}
        empty = [c for c in classes if not self.images_per_class[c]]
        if empty:
            # DAFormer would fail here; we drop such classes and renormalise, and say so.
            print_log(f'rare-class sampling: classes {empty} have no image with more than '
                      f'{min_pixels} pixels in {stats_name}; they are not sampled (lower min_pixels '
                      'to include them)', logger='current', level=logging.WARNING)
        keep = [i for i, c in enumerate(classes) if self.images_per_class[c]]
        if not keep:
            raise ValueError(f'rare-class sampling: no class has an image with more than '
                             f'{min_pixels} pixels in {stats_name}; lower min_pixels')
        self.classes = [classes[i] for i in keep]
        self.probs = probs[keep] / probs[keep].sum()

    def sample(self, generator=None):
        """Returns ``(class, source index)``, drawn with torch's (seeded) RNG."""
        k = torch.multinomial(self.probs, 1, generator=generator).item()
        c = self.classes[k]
        images = self.images_per_class[c]
        return c, images[torch.randint(len(images), (1, ), generator=generator).item()]


def stats_by_index(dataset, stats, stats_file):
    """Order loaded statistics (path -> counts) by dataset index; raise on images they lack."""
    ordered = []
    for idx in range(len(dataset)):
        path = osp.normpath(osp.abspath(dataset.get_data_info(idx)['seg_map_path']))
        if path not in stats:
            raise ValueError(f'class statistics {stats_file} have no entry for {path} (stale file?); '
                             'delete it to recompute, or run tools/dataset_converters/rcs_stats.py')
        ordered.append(stats[path])
    return ordered
