"""Input checks shared by our datasets and the UDA data layer: fail early, name the path at fault."""
import logging
import os
import os.path as osp

import numpy as np
from mmengine.logging import print_log

# errors whose message already names the sample's files are passed on unchanged
_CLEAR_ERRORS = (ValueError, KeyError, FileNotFoundError, RuntimeError)


def _has_file(folder, suffix):
    for _, _, files in os.walk(folder):
        if any(f.endswith(suffix) for f in files):
            return True
    return False


def check_image_folder(dataset):
    """Check, before an mmseg dataset scans its files, that its root and image folder hold images.

    Raises:
        FileNotFoundError: ``data_root`` or the image folder does not exist.
        ValueError: no image with the dataset's suffix (mmseg would fail with an unrelated message).
    """
    name = type(dataset).__name__
    if dataset.data_root and not osp.isdir(dataset.data_root):
        raise FileNotFoundError(f'{name}: data_root {dataset.data_root} does not exist')
    if dataset.ann_file:
        if not osp.isfile(dataset.ann_file):
            raise FileNotFoundError(f'{name}: ann_file {dataset.ann_file} does not exist')
        return
    img_dir = dataset.data_prefix.get('img_path', '') or dataset.data_root or '.'
    if not osp.isdir(img_dir):
        raise FileNotFoundError(f'{name}: image folder {img_dir} does not exist')
    suffix = getattr(dataset, 'img_suffix', '')
    if not _has_file(img_dir, suffix):
        raise ValueError(f'{name}: no images found in {img_dir} with suffix {suffix!r}')


def check_labels(dataset, require_labels=None, key=None):
    """Check that every image of a built dataset has its label file.

    Args:
        dataset (BaseSegDataset): fully initialised dataset.
        require_labels (bool, optional): True: every sample must have a seg map; False: skip the
            check (unlabelled target data); None: check the seg maps the dataset lists.
        key (str, optional): the dataset's config key (e.g. ``val_dataloader.dataset``), named in
            the errors.

    Raises:
        ValueError: the dataset is empty, or labels are required and ``data_prefix`` has no
            ``seg_map_path``.
        FileNotFoundError: the label folder or a label file does not exist.
    """
    name = type(dataset).__name__
    if len(dataset) == 0:
        raise ValueError(f'{name}: the dataset is empty (data_root={dataset.data_root!r}, '
                         f'data_prefix={dataset.data_prefix})')
    if require_labels is False:
        return
    prefix_key = f'{key}.data_prefix.seg_map_path' if key else 'data_prefix.seg_map_path'
    seg_dir = dataset.data_prefix.get('seg_map_path')
    if seg_dir is not None and not osp.isdir(seg_dir):
        raise FileNotFoundError(f'{name}: label folder {seg_dir} does not exist ({prefix_key}, '
                                f'data_root={dataset.data_root!r}); set {prefix_key} to the folder '
                                'of the label files')
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        seg_map = info.get('seg_map_path')
        if seg_map is None:
            if require_labels:
                raise ValueError(f'{name}: labels are required but {prefix_key} is not set '
                                 f'(data_root={dataset.data_root!r})')
            return
        if not osp.isfile(seg_map):
            raise FileNotFoundError(f'{name}: image {info["img_path"]} has no label file {seg_map}'
                                    + (f' ({prefix_key})' if key else ''))


def loads_labels(dataset):
    """Whether an mmseg dataset's pipeline holds a ``LoadAnnotations`` (then it needs labels)."""
    if not hasattr(dataset, 'data_prefix') or not hasattr(dataset, 'get_data_info'):
        return False
    transforms = getattr(getattr(dataset, 'pipeline', None), 'transforms', [])
    return any('LoadAnnotations' in type(t).__name__ for t in transforms)


def check_labelled_pixels(dataset, max_files=16):
    """Warn when a labelled dataset seems to hold no labelled pixel (every value the ignore index
    after its label mapping: a wrong ``label_map`` / ``reduce_zero_label``, unconverted labels),
    which would train at loss 0 without a word.

    Reads at most ``max_files`` label files, evenly spaced over the dataset, so that the check stays
    cheap on large sets (rare-class sampling counts every file and raises on such a set anyway).

    Returns:
        bool: True when a checked file holds a labelled pixel.
    """
    from .class_stats import label_file_counts, label_info
    ignore_index = getattr(dataset, 'ignore_index', 255)
    indices = np.unique(np.linspace(0, len(dataset) - 1, min(max_files, len(dataset))).astype(int))
    for idx in indices:
        if label_file_counts(label_info(dataset, int(idx)), ignore_index)[1]:
            return True
    checked = f'its {len(dataset)} label files' if len(indices) == len(dataset) else \
        f'{len(indices)} of its {len(dataset)} label files (evenly spaced)'
    print_log(f'{type(dataset).__name__} (labels in {dataset.data_prefix.get("seg_map_path")}): '
              f'no pixel of {checked} is labelled (all are the ignore index {ignore_index} after '
              'the label mapping), so its loss would be 0; check the label files (class ids, e.g. '
              "converted by tools/dataset_converters/) and the dataset's label_map / "
              'reduce_zero_label', logger='current', level=logging.WARNING)
    return False


def check_classes(dataset):
    """Raise ``ValueError`` when the dataset's ``metainfo.classes`` is empty or missing (mmseg would
    map every label to the ignore index and train on nothing)."""
    classes = dataset.metainfo.get('classes')
    if not classes:
        raise ValueError(f'{type(dataset).__name__}: metainfo.classes is empty ({classes!r}); '
                         f'give the class names (data_root={dataset.data_root!r})')


def load_sample(dataset, idx, prepare):
    """``prepare(idx)`` (a dataset's ``prepare_data`` or ``__getitem__``), naming the sample's files
    when its pipeline fails with an error that does not (e.g. OpenCV on a truncated image).

    Raises:
        RuntimeError: a transform failed; the message names the image and label files and the
            original error, which is chained as the cause.
    """
    try:
        return prepare(idx)
    except Exception as err:
        try:
            info = dataset.get_data_info(idx)
        except Exception:  # noqa: BLE001 (the index itself is bad: the original error says it)
            raise err from None
        img, seg = info.get('img_path'), info.get('seg_map_path')
        if isinstance(err, _CLEAR_ERRORS) and img is not None and str(img) in str(err):
            raise
        label = f' (label {seg})' if seg else ''
        raise RuntimeError(f'{type(dataset).__name__}: cannot load sample {idx}, image {img}'
                           f'{label}: {type(err).__name__}: {err}') from err
