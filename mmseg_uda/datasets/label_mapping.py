"""Label id -> Cityscapes trainId conversion of GTA5, SYNTHIA and Cityscapes, with class statistics.

The tables map a dataset's raw label ids to the 19 Cityscapes trainIds; every other id becomes 255
(ignored). ``tools/dataset_converters/{gta,synthia,cityscapes}.py`` are thin CLIs over
:func:`convert_gta5`, :func:`convert_synthia` and :func:`convert_cityscapes`, which write a uint8
``*_labelTrainIds.png`` next to each label and ``sample_class_stats.json`` (see :mod:`.class_stats`)
into the data root.

Conversion is parallel (``nproc`` processes, with a progress bar), atomic per file (temporary
file in the same folder, then ``os.replace``) and resumable: an existing output is kept and only
read for its class counts unless ``overwrite`` is set.
"""
import argparse
import glob
import os
import os.path as osp
import sys
import warnings

import cv2
import numpy as np
from PIL import Image

from .class_stats import STATS_FILENAME, save_sample_class_stats

IGNORE_INDEX = 255
TRAINID_SUFFIX = '_labelTrainIds.png'

# Cityscapes labelIds -> trainIds (cityscapesScripts labels.py). GTA5 label PNGs hold the same ids.
CITYSCAPES_ID_TO_TRAINID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}
GTA5_ID_TO_TRAINID = CITYSCAPES_ID_TO_TRAINID

# SYNTHIA-RAND-CITYSCAPES class ids (GT/LABELS, R channel) -> Cityscapes trainIds. Unmapped: 0 void,
# 13 parking-slot, 14 road-work, 22 lanemarking.
SYNTHIA_ID_TO_TRAINID = {
    3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 16: 9,
    1: 10, 10: 11, 17: 12, 8: 13, 18: 14, 19: 15, 20: 16, 12: 17, 11: 18
}

_MAX_LISTED = 10  # paths named in one error message


class LabelConversionError(ValueError):
    """Bad converter input (empty folder, unreadable label, image without label)."""


def make_lut(mapping, size=256, ignore_index=IGNORE_INDEX):
    """Lookup table (uint8 array of ``size``) of ``mapping``; unmapped ids give ``ignore_index``."""
    lut = np.full(size, ignore_index, dtype=np.uint8)
    for src, dst in mapping.items():
        if not 0 <= src < size:
            raise ValueError(f'label id {src} does not fit a lookup table of size {size}')
        lut[src] = dst
    return lut


def map_labels(label, lut, ignore_index=IGNORE_INDEX):
    """Map an integer label map through ``lut``; ids outside the table give ``ignore_index``.

    Returns:
        np.ndarray: uint8 array of the label's shape.
    """
    label = np.asarray(label)
    if not np.issubdtype(label.dtype, np.integer):
        raise TypeError(f'label map must hold integers, got dtype {label.dtype}')
    if label.dtype.kind == 'u' and np.iinfo(label.dtype).max < len(lut):
        return lut[label]
    out = np.full(label.shape, ignore_index, dtype=np.uint8)
    valid = (label >= 0) & (label < len(lut))
    out[valid] = lut[label[valid]]
    return out


def read_label_ids(path):
    """Label ids of an 8-bit palette ('P') or greyscale ('L') PNG, read with PIL.

    A palette PNG's pixel values are the palette indices, i.e. the ids (not the colours).
    """
    with Image.open(path) as img:
        if img.mode not in ('P', 'L'):
            raise LabelConversionError(
                f'{path}: expected an 8-bit palette or greyscale label PNG, '
                f'got PIL mode {img.mode}')
        return np.array(img)


def read_synthia_ids(path):
    """SYNTHIA class ids of a 16-bit ``GT/LABELS`` PNG: its R channel, or the single channel."""
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise LabelConversionError(f'{path}: OpenCV cannot read this image')
    if label.ndim == 3:
        if label.shape[2] < 3:
            raise LabelConversionError(f'{path}: expected 1, 3 or 4 channels, got {label.shape[2]}')
        label = label[:, :, 2]  # R of cv2's BGR(A); == [:, :, -1] for 3 channels
    return label


def trainid_path(label_path):
    """Output path of a label: ``x_labelIds.png`` or ``x.png`` -> ``x_labelTrainIds.png``."""
    stem = osp.splitext(label_path)[0]
    if stem.endswith('_labelIds'):
        stem = stem[:-len('_labelIds')]
    return stem + TRAINID_SUFFIX


def write_png_atomic(path, array):
    """Write ``array`` as a PNG via a temporary file in the same folder and ``os.replace``."""
    ok, buf = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'{path}: PNG encoding failed')
    tmp = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            f.write(buf.tobytes())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def _count_pixels(train_ids, ignore_index):
    counts = np.bincount(train_ids.ravel(), minlength=256)
    return {int(c): int(counts[c]) for c in np.flatnonzero(counts) if c != ignore_index}


_WORKER = {}  # read_fn, lut, overwrite, ignore_index of the running conversion (per process)


def _init_worker(read_fn, lut, overwrite, ignore_index):
    _WORKER.update(read_fn=read_fn, lut=lut, overwrite=overwrite, ignore_index=ignore_index)


def _convert_one(task):
    """Convert one (src, dst) pair. Returns (dst, counts, written, error message or None)."""
    src, dst = task
    ignore_index = _WORKER['ignore_index']
    if not _WORKER['overwrite'] and osp.exists(dst):
        try:
            return dst, _count_pixels(read_label_ids(dst), ignore_index), False, None
        except Exception:  # a damaged output is derived data: convert it again
            pass
    try:
        label = _WORKER['read_fn'](src)
    except Exception as e:
        msg = str(e) if isinstance(e, LabelConversionError) else f'{src}: {type(e).__name__}: {e}'
        return dst, None, False, msg
    train_ids = map_labels(label, _WORKER['lut'], ignore_index)
    write_png_atomic(dst, train_ids)
    return dst, _count_pixels(train_ids, ignore_index), True, None


def _listing(paths):
    shown = ', '.join(paths[:_MAX_LISTED])
    more = len(paths) - _MAX_LISTED
    return shown + (f' (and {more} more)' if more > 0 else '')


def convert_labels(items, read_fn, lut, nproc=1, overwrite=False, ignore_index=IGNORE_INDEX,
                   summary=None):
    """Convert label files to uint8 trainId PNGs.

    Args:
        items (list[tuple[str, str]]): (label path, output path) pairs.
        read_fn (callable): path -> integer label map (a module-level function, for the workers).
        lut (np.ndarray): lookup table from :func:`make_lut`.
        nproc (int): worker processes; 1 converts in this process. A progress bar is shown.
        overwrite (bool): rewrite outputs that exist; otherwise they are kept and only counted
            (an existing output that cannot be read is converted again).
        summary (dict, optional): receives ``converted`` and ``kept`` (existing outputs) counts.

    Returns:
        list[tuple[str, dict[int, int]]]: (output path, trainId pixel counts) in ``items`` order.

    Raises:
        LabelConversionError: naming the labels that could not be read (up to 10), after
            converting the others.
    """
    if nproc < 1:
        raise ValueError(f'nproc must be >= 1, got {nproc}')
    tasks = [(str(src), str(dst)) for src, dst in items]
    if not tasks:
        return []
    from mmengine.utils import track_parallel_progress, track_progress
    ctx = (read_fn, lut, overwrite, ignore_index)
    nproc = min(nproc, len(tasks))
    if nproc > 1:
        results = track_parallel_progress(
            _convert_one, tasks, nproc, initializer=_init_worker, initargs=ctx)
    else:
        saved = dict(_WORKER)
        _init_worker(*ctx)
        try:
            results = track_progress(_convert_one, tasks)
        finally:
            _WORKER.clear()
            _WORKER.update(saved)
    errors = [err for _, _, _, err in results if err is not None]
    if errors:
        raise LabelConversionError(
            f'{len(errors)} of {len(tasks)} label files could not be converted:\n  '
            + '\n  '.join(errors[:_MAX_LISTED])
            + (f'\n  (and {len(errors) - _MAX_LISTED} more)' if len(errors) > _MAX_LISTED else ''))
    if summary is not None:
        summary['converted'] = sum(written for _, _, written, _ in results)
        summary['kept'] = len(results) - summary['converted']
    return [(dst, counts) for dst, counts, _, _ in results]


def _require_dir(path, what):
    if not osp.isdir(path):
        raise FileNotFoundError(f'{what} {path} does not exist')
    return osp.abspath(path)  # absolute paths, so the stats are relative to the data root


def _source_labels(pattern, folder):
    """Sorted label PNGs matching ``pattern`` but no outputs; error naming ``folder`` if none."""
    files = sorted(p for p in glob.glob(pattern) if not p.endswith(TRAINID_SUFFIX))
    if not files:
        raise LabelConversionError(f'no label PNGs ({osp.basename(pattern)}) found in {folder}')
    return files


def _convert_paired(data_root, img_dir, label_dir, read_fn, lut, nproc, overwrite, skip_missing,
                    ext='.png'):
    """Convert ``data_root/label_dir/<name>.png`` for every ``data_root/img_dir/<name>.png``."""
    data_root = _require_dir(data_root, 'data root')
    img_dir, label_dir = osp.join(data_root, img_dir), osp.join(data_root, label_dir)
    _require_dir(img_dir, 'image folder')
    _require_dir(label_dir, 'label folder')
    labels = {osp.basename(p): p for p in _source_labels(osp.join(label_dir, '*' + ext), label_dir)}
    images = sorted(glob.glob(osp.join(img_dir, '*' + ext)))
    if not images:
        raise LabelConversionError(f'no images (*{ext}) found in {img_dir}')
    missing = [p for p in images if osp.basename(p) not in labels]
    if missing:
        msg = f'{len(missing)} image(s) without a label in {label_dir}: {_listing(missing)}'
        if not skip_missing:
            raise LabelConversionError(msg + ' (use --skip-missing to convert the others)')
        warnings.warn(msg + '; they are skipped', stacklevel=2)
    names = {osp.basename(p) for p in images}
    orphans = sorted(p for name, p in labels.items() if name not in names)
    if orphans:
        warnings.warn(f'{len(orphans)} label(s) without an image in {img_dir}, not converted: '
                      f'{_listing(orphans)}', stacklevel=2)
    items = [(p, trainid_path(p)) for name, p in sorted(labels.items()) if name in names]
    summary = dict(missing=len(missing), orphans=len(orphans))
    results = convert_labels(items, read_fn, lut, nproc, overwrite, summary=summary)
    summary['stats_file'] = osp.join(data_root, STATS_FILENAME)
    save_sample_class_stats(summary['stats_file'], results, IGNORE_INDEX)
    summary['num_stats'] = len(results)
    return summary


def convert_gta5(data_root, nproc=1, overwrite=False, skip_missing=False):
    """Convert GTA5 ``labels/*.png`` (palette PNGs of Cityscapes labelIds) to trainIds.

    Expects ``data_root/images`` and ``data_root/labels``; writes
    ``labels/<name>_labelTrainIds.png`` and ``data_root/sample_class_stats.json``. An image without
    a label is an error unless ``skip_missing``, then a warning.

    Returns:
        dict: ``converted``, ``kept``, ``missing`` (images without label), ``orphans`` (labels
        without image, not converted), ``stats_file``, ``num_stats``.
    """
    return _convert_paired(data_root, 'images', 'labels', read_label_ids,
                           make_lut(GTA5_ID_TO_TRAINID), nproc, overwrite, skip_missing)


def convert_synthia(data_root, nproc=1, overwrite=False, skip_missing=False):
    """Convert SYNTHIA-RAND-CITYSCAPES ``GT/LABELS/*.png`` (16-bit, id in R) to trainIds.

    Expects ``data_root/RGB`` and ``data_root/GT/LABELS``; otherwise as :func:`convert_gta5`.
    """
    return _convert_paired(data_root, 'RGB', osp.join('GT', 'LABELS'), read_synthia_ids,
                           make_lut(SYNTHIA_ID_TO_TRAINID, 1 << 16), nproc, overwrite,
                           skip_missing)


def convert_cityscapes(data_root, nproc=1, overwrite=False):
    """Convert ``gtFine/<split>/<city>/*_gtFine_labelIds.png`` to ``*_gtFine_labelTrainIds.png``.

    Every split under ``gtFine`` is converted; ``data_root/sample_class_stats.json`` covers the
    train split only (no stats file when there is no ``gtFine/train``).

    Returns:
        dict: ``converted``, ``kept``, ``stats_file`` (None without train split), ``num_stats``.
    """
    data_root = _require_dir(data_root, 'data root')
    gt_dir = osp.join(data_root, 'gtFine')
    _require_dir(gt_dir, 'label folder')
    labels = _source_labels(osp.join(gt_dir, '*', '*', '*_gtFine_labelIds.png'), gt_dir)
    summary = {}
    results = convert_labels([(p, trainid_path(p)) for p in labels], read_label_ids,
                             make_lut(CITYSCAPES_ID_TO_TRAINID), nproc, overwrite, summary=summary)
    train_dir = osp.join(gt_dir, 'train') + os.sep
    train = [(dst, counts) for dst, counts in results if dst.startswith(train_dir)]
    summary.update(stats_file=None, num_stats=len(train))
    if train:
        summary['stats_file'] = osp.join(data_root, STATS_FILENAME)
        save_sample_class_stats(summary['stats_file'], train, IGNORE_INDEX)
    return summary


def _print_warning(message, *args, **kwargs):
    print(f'warning: {message}', file=sys.stderr)


def converter_main(convert_fn, description, argv=None, skip_missing=False):
    """Command line of a converter: ``DATA_ROOT [--nproc N] [--overwrite] [--skip-missing]``.

    Bad input exits with status 1 and one message naming the path.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('data_root', help='dataset root folder')
    parser.add_argument('--nproc', type=int, default=os.cpu_count() or 1,
                        help='worker processes (default: number of CPUs)')
    parser.add_argument('--overwrite', action='store_true',
                        help='rewrite existing *_labelTrainIds.png instead of keeping them')
    if skip_missing:
        parser.add_argument('--skip-missing', action='store_true',
                            help='warn about images without a label instead of failing')
    args = vars(parser.parse_args(argv))
    if args['nproc'] < 1:
        parser.error(f'--nproc must be >= 1, got {args["nproc"]}')
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _print_warning
            summary = convert_fn(**args)
    except (FileNotFoundError, LabelConversionError) as e:
        print(f'error: {e}', file=sys.stderr)
        raise SystemExit(1) from None
    parts = [f'{summary["converted"]} converted', f'{summary["kept"]} existing kept']
    if summary.get('missing'):
        parts.append(f'{summary["missing"]} images without label skipped')
    if summary.get('orphans'):
        parts.append(f'{summary["orphans"]} labels without image ignored')
    print(f'{", ".join(parts)}; class stats of {summary["num_stats"]} labels: '
          f'{summary["stats_file"] or "not written (no train split)"}')
    return summary
