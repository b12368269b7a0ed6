"""Per-image class pixel counts ("sample class statistics"), the input of rare-class sampling.

The statistics file is JSON::

    {"version": 2, "ignore_index": 255,
     "fingerprint": {"count": <label files>, "sha1": "<hash of their relative paths and sizes>"},
     "samples": [{"file": "<seg map path relative to the stats file's folder>",
                  "counts": {"<class id>": <pixels>, ...}}, ...]}

Only classes with at least one pixel are listed; the ignore index never is. The fingerprint
(:func:`label_fingerprint`) lets a reader see that the label files changed since the counts were
taken (a file copied from another dataset, labels converted again). Version 1 files (no fingerprint)
and DAFormer's ``sample_class_stats.json`` (a list of ``{"file": <abs path>, "<class id>": <pixels>}``)
are read too. The converters in ``tools/dataset_converters`` write this file while they convert; for
any other mmseg dataset :func:`compute_sample_class_stats` builds it
(``tools/dataset_converters/rcs_stats.py``, or :class:`UDADataset` on first use).
"""
import hashlib
import json
import os
import os.path as osp

import numpy as np

STATS_FILENAME = 'sample_class_stats.json'


def count_label_pixels(label, ignore_index=255):
    """Pixel count of every class present in a label map.

    Args:
        label (np.ndarray): integer label map (H, W).
        ignore_index (int): label value that is not counted.

    Returns:
        dict[int, int]: class id -> number of pixels, only for classes with pixels.
    """
    values, counts = np.unique(np.asarray(label), return_counts=True)
    return {int(v): int(n) for v, n in zip(values, counts) if v != ignore_index}


def label_fingerprint(files, root):
    """Fingerprint of label files: their number and a SHA-1 of their sorted paths relative to
    ``root`` and their sizes in bytes (-1 for a missing file).

    Modification times are left out on purpose: copying a data root to a node's local disk resets
    them, and would force a recount of every label at each job; a re-encoded PNG label practically
    never keeps its size.

    Returns:
        dict: ``{"count": int, "sha1": str}``.
    """
    sha = hashlib.sha1()
    rels = sorted(osp.relpath(osp.abspath(f), root) for f in files)
    for rel in rels:
        try:
            size = os.stat(osp.join(root, rel)).st_size
        except OSError:
            size = -1
        sha.update(f'{rel}\0{size}\n'.encode())
    return dict(count=len(rels), sha1=sha.hexdigest())


def save_sample_class_stats(path, samples, ignore_index=255):
    """Write statistics atomically, with the fingerprint of the label files they were taken from.

    Args:
        path (str): output JSON file.
        samples (list[tuple[str, dict[int, int]]]): (seg map path, counts) per image. Paths (absolute
            or relative to the current folder) are stored relative to the JSON file's folder, so the
            data root can move.
    """
    root = osp.dirname(osp.abspath(path))
    entries = []
    for file, counts in samples:
        rel = osp.relpath(osp.abspath(file), root)
        entries.append(dict(file=rel, counts={str(c): int(n) for c, n in sorted(counts.items())}))
    fingerprint = label_fingerprint([file for file, _ in samples], root)
    os.makedirs(root, exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(dict(version=2, ignore_index=ignore_index, fingerprint=fingerprint,
                       samples=entries), f)
    os.replace(tmp, path)


def load_sample_class_stats(path):
    """Read statistics written by :func:`save_sample_class_stats` (or DAFormer's format).

    Returns:
        dict[str, dict[int, int]]: absolute, normalised seg map path -> class counts.
    """
    return read_sample_class_stats(path)[0]


def read_sample_class_stats(path):
    """Like :func:`load_sample_class_stats`, also returning the stored fingerprint.

    Returns:
        tuple[dict[str, dict[int, int]], dict | None]: the statistics and the fingerprint (None for
        files written without one: version 1 and DAFormer's).
    """
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'class statistics file {path} is not valid JSON: {e}') from e
    root = osp.dirname(osp.abspath(path))
    stats = {}
    if isinstance(data, list):  # DAFormer: [{"file": path, "<class>": n, ...}]
        for entry in data:
            entry = dict(entry)
            file = entry.pop('file')
            stats[osp.normpath(osp.join(root, file))] = {int(c): int(n) for c, n in entry.items()}
        return stats, None
    if not isinstance(data, dict) or 'samples' not in data:
        raise ValueError(f'class statistics file {path} has no "samples" list')
    for entry in data['samples']:
        stats[osp.normpath(osp.join(root, entry['file']))] = {
            int(c): int(n) for c, n in entry['counts'].items()}
    return stats, data.get('fingerprint')


def stale_stats_reason(path, stats, fingerprint, label_files):
    """Why statistics read from ``path`` do not describe ``label_files`` (None when they do).

    Args:
        path (str): the statistics file.
        stats (dict[str, dict[int, int]]) and fingerprint (dict | None): as read by
            :func:`read_sample_class_stats`.
        label_files (list[str]): the seg map paths of the dataset that will use them.

    Returns:
        str | None: e.g. ``'has no entry for <file>'`` or ``'was taken from other label files
        ...'``. A file without a fingerprint is not stale by itself.
    """
    for file in label_files:
        if osp.normpath(osp.abspath(file)) not in stats:
            return f'has no entry for {file}'
    if fingerprint is None:
        return None
    now = label_fingerprint(list(stats), osp.dirname(osp.abspath(path)))
    if now != fingerprint:
        def show(fp):
            return f'{fp.get("count")} files, sha1 {str(fp.get("sha1"))[:12]}'
        return (f'was taken from other label files (fingerprint {show(fingerprint)}; the files it '
                f'lists now: {show(now)}): labels converted again, or another dataset\'s file')
    return None


def label_file_counts(info, ignore_index=255):
    """Class pixel counts of one label file, read as training reads it.

    Args:
        info (dict): ``seg_map_path`` and the dataset's ``label_map`` / ``reduce_zero_label``.

    Returns:
        tuple[str, dict[int, int]]: the seg map path and its counts.
    """
    from mmseg.datasets.transforms import LoadAnnotations

    from .transforms.validate import check_label_channels, check_label_depth
    where = f'label {info["seg_map_path"]}'
    check_label_depth(info['seg_map_path'], where)
    # mmseg's own loader, so label_map / reduce_zero_label are applied exactly as in training.
    results = LoadAnnotations()(dict(info, seg_fields=[]))
    check_label_channels(results['gt_seg_map'], info['seg_map_path'], where)
    return info['seg_map_path'], count_label_pixels(results['gt_seg_map'], ignore_index)


def _count_one(args):
    return label_file_counts(*args)


def label_info(dataset, idx):
    """What :func:`label_file_counts` needs of sample ``idx`` (raises when it has no seg map)."""
    info = dataset.get_data_info(idx)
    if not info.get('seg_map_path'):
        raise ValueError(f'{type(dataset).__name__} sample {idx} ({info.get("img_path")}) has no '
                         'seg_map_path: class statistics need a labelled dataset')
    return {k: info.get(k) for k in ('seg_map_path', 'label_map', 'reduce_zero_label')}


def compute_sample_class_stats(dataset, nproc=1, ignore_index=255):
    """Class pixel counts of every labelled image of an mmseg dataset (after its label mapping).

    Args:
        dataset (BaseSegDataset): a built, fully initialised mmseg dataset with ``seg_map_path``.
        nproc (int): worker processes; a progress bar is shown.

    Returns:
        list[tuple[str, dict[int, int]]]: (seg map path, counts), in dataset order.
    """
    from mmengine.utils import track_parallel_progress, track_progress
    tasks = [(label_info(dataset, idx), ignore_index) for idx in range(len(dataset))]
    if nproc > 1:
        return track_parallel_progress(_count_one, tasks, nproc)
    return track_progress(_count_one, tasks)
