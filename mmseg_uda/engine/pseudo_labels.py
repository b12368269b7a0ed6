"""Offline pseudo-labels with class-wise confidence thresholds (CBST-style self-training).

SDCA's stage 3 (Li et al., "Semantic Distribution-aware Contrastive Adaptation for Semantic
Segmentation", TPAMI 2024, §3.3 Eq. 19, and the authors' code): a class's threshold is
the median confidence of the target pixels predicted as that class, capped at 0.9; a pixel keeps
its predicted class if its confidence reaches the threshold and is ignored otherwise. The same
two passes serve CBST / IAST-style offline stages with another quantile or cap.
"""
import json
import os
import os.path as osp

import cv2
import torch
from mmengine.dist import all_reduce, is_main_process

DEFAULT_BINS = 100_000


def _predictions(model, dataloader):
    """Yield ``(data_sample, probs)`` per image: softmax (C, H, W) at the original resolution.

    ``model.test_step`` preprocesses the batch and predicts; mmseg's ``postprocess_result`` then
    removes the padding and resizes the logits to the image's ``ori_shape`` (the label resolution).
    A UDA segmentor's ``predict`` dispatches to its student or teacher (``predict_on``).
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in dataloader:
                for sample in model.test_step(batch):
                    yield sample, sample.seg_logits.data.float().softmax(0)
    finally:
        model.train(was_training)


def confidence_histograms(model, dataloader, num_classes, bins=DEFAULT_BINS):
    """Per-class histograms of the max-probability of the pixels predicted as each class.

    Bin ``b`` of row ``k`` counts the pixels with argmax ``k`` and confidence in
    ``[b / bins, (b + 1) / bins)`` (confidence 1 falls in the last bin). Counts are int64, so the
    1.5e9 pixels of Cityscapes train fit, and are summed over ranks when torch.distributed is
    initialised (each rank predicts its own shard of the images).

    Args:
        model (BaseSegmentor): an mmseg segmentor or a UDA segmentor.
        dataloader (Iterable): batches of the images (labels not needed).
        num_classes (int): number of classes K of the model's output.
        bins (int): number of bins over [0, 1]. Default: 100,000.

    Returns:
        Tensor: (K, bins) int64 counts, on CPU.
    """
    hist = None
    for _, probs in _predictions(model, dataloader):
        if probs.shape[0] != num_classes:
            raise ValueError(f'the model predicts {probs.shape[0]} classes, expected '
                             f'num_classes={num_classes}')
        conf, pred = probs.max(0)
        # float64: the bin of a float32 confidence is exact up to the product's rounding
        idx = (conf.double() * bins).long().clamp_(max=bins - 1)
        counts = torch.bincount((pred * bins + idx).flatten(), minlength=num_classes * bins)
        hist = counts if hist is None else hist + counts
    if hist is None:  # no image on this rank: still take part in the reduction
        hist = torch.zeros(num_classes * bins, dtype=torch.int64)
    all_reduce(hist, op='sum')
    return hist.view(num_classes, bins).cpu()


def thresholds_from_histograms(hist, quantile=0.5, cap=0.9):
    """Class thresholds: the value at sorted index ``round(quantile * n_k)``, then ``min(., cap)``.

    As SDCA's code (``x[round(0.5 * len(x))]`` of the sorted confidences; half-to-even rounding as
    numpy's). The value is the lower edge of the bin holding that order statistic, so the exact
    value ``v`` satisfies ``threshold <= v < threshold + 1 / bins``, and a pixel in the same bin as
    ``v`` is kept like ``v`` itself. A class with no pixel gets 0.

    Args:
        hist (Tensor): (K, bins) counts from :func:`confidence_histograms`.
        quantile (float): which order statistic, in [0, 1]. Default: 0.5 (the median, Eq. 19).
        cap (float, optional): upper bound of every threshold; None for none. Default: 0.9 (SDCA's
            code).

    Returns:
        Tensor: (K, ) float64 thresholds.
    """
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f'quantile must be in [0, 1], got {quantile}')
    bins = hist.shape[1]
    cum = hist.cumsum(1)
    n = cum[:, -1]
    rank = torch.minimum((quantile * n.double()).round().long(), (n - 1).clamp(min=0))
    # the first bin whose cumulative count exceeds the rank holds the order statistic
    b = torch.searchsorted(cum, (rank + 1).unsqueeze(1)).squeeze(1)
    thresholds = torch.where(n > 0, b.double() / bins, torch.zeros_like(b, dtype=torch.float64))
    return thresholds if cap is None else thresholds.clamp(max=cap)


def class_confidence_thresholds(model, dataloader, num_classes, quantile=0.5, cap=0.9,
                                bins=DEFAULT_BINS):
    """Per-class confidence thresholds δ_k of SDCA (Eq. 19 and the authors' ``pseudo_label.py``).

    Runs the model (eval, no gradients) over every image of ``dataloader``, takes the softmax at the
    original image resolution and, for each class k, the ``quantile`` of the max-probabilities of
    the pixels predicted as k (SDCA: the median), capped at ``cap``; a class never predicted gets 0.
    Confidences are not stored: they go into (K, bins) int64 histograms, so the thresholds are
    exact to one bin width (1e-5 by default, see :func:`thresholds_from_histograms`). Under
    torch.distributed the histograms are summed over ranks: every rank gets the same thresholds,
    which equal a single-process run's when the ranks' shards partition the images (a sampler
    without padding, ``round_up=False``).

    Args:
        model (BaseSegmentor): an mmseg segmentor or a UDA segmentor (its ``predict`` network).
        dataloader (Iterable): batches of the target images, test pipeline (labels not needed).
        num_classes (int): number of classes K of the model's output.
        quantile (float): order statistic per class. Default: 0.5.
        cap (float, optional): upper bound of the thresholds; None for none. Default: 0.9.
        bins (int): histogram bins over [0, 1]. Default: 100,000.

    Returns:
        Tensor: (K, ) float64 thresholds, on CPU.
    """
    hist = confidence_histograms(model, dataloader, num_classes, bins)
    return thresholds_from_histograms(hist, quantile, cap)


def label_path(img_path, dataset, out_dir):
    """Where the label of ``img_path`` goes: its path relative to the dataset's image folder, with
    ``img_suffix`` replaced by ``seg_map_suffix``, under ``out_dir`` (how ``BaseSegDataset`` pairs
    images and labels, so ``data_prefix.seg_map_path=out_dir`` reads them back)."""
    img_dir = dataset.data_prefix['img_path']
    rel = osp.relpath(img_path, img_dir)
    if rel.startswith(os.pardir) or not rel.endswith(dataset.img_suffix):
        raise ValueError(f'image {img_path} is not a `*{dataset.img_suffix}` file under the '
                         f"dataset's data_prefix['img_path'] {img_dir}")
    return osp.join(out_dir, rel[:len(rel) - len(dataset.img_suffix)] + dataset.seg_map_suffix)


def _write_png_atomic(path, label):
    ok, buf = cv2.imencode('.png', label)
    if not ok:
        raise OSError(f'could not encode the pseudo-label {path}')
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(buf.tobytes())
    os.replace(tmp, path)  # never a half-written label at `path`


def write_pseudo_labels(model, dataloader, thresholds, out_dir, ignore_index=255):
    """Write the pseudo-label map of every image (SDCA Eq. 19) as a uint8 PNG.

    Ŷ = argmax_k P^k where max_k P^k >= δ_Ŷ, else ``ignore_index``; at the original image (label)
    resolution, single scale, no flip. Files mirror the images' paths relative to the dataset's
    ``data_prefix['img_path']`` with ``img_suffix`` replaced by ``seg_map_suffix`` (Cityscapes
    ``train/aachen/aachen_000000_000019_leftImg8bit.png`` ->
    ``out_dir/aachen/aachen_000000_000019_gtFine_labelTrainIds.png``), so a training config reads
    them with ``data_prefix.seg_map_path=out_dir``. Each file is written atomically. Under
    torch.distributed each rank writes its own images; the counts are summed over ranks and the
    main process writes ``out_dir/thresholds.json`` (thresholds by class name, counts).

    Args:
        model (BaseSegmentor): an mmseg segmentor or a UDA segmentor.
        dataloader (Iterable): the images; ``dataloader.dataset`` is an mmseg ``BaseSegDataset``.
        thresholds (Sequence[float] | Tensor): (K, ) class thresholds δ_k.
        out_dir (str): folder of the label maps.
        ignore_index (int): label of the pixels below their threshold. Default: 255.

    Returns:
        dict: ``images`` (files written), ``labelled`` and ``pixels`` (pixel counts) and
        ``labelled_share`` (labelled / pixels).
    """
    dataset = dataloader.dataset
    for attr in ('data_prefix', 'img_suffix', 'seg_map_suffix'):
        if not hasattr(dataset, attr):
            raise TypeError(f'write_pseudo_labels needs an mmseg BaseSegDataset (data_prefix, '
                            f'img_suffix, seg_map_suffix), got {type(dataset).__name__}')
    thresholds = torch.as_tensor(thresholds, dtype=torch.float64).flatten()
    num_classes = len(thresholds)
    if not 0 <= ignore_index <= 255 or ignore_index < num_classes:
        raise ValueError(f'uint8 labels need num_classes <= ignore_index <= 255, got '
                         f'{num_classes} classes and ignore_index={ignore_index}')
    counts = torch.zeros(3, dtype=torch.int64)  # images, labelled pixels, pixels
    for sample, probs in _predictions(model, dataloader):
        if probs.shape[0] != num_classes:
            raise ValueError(f'the model predicts {probs.shape[0]} classes, but {num_classes} '
                             'thresholds are given')
        conf, pred = probs.max(0)
        keep = conf.double() >= thresholds.to(conf.device)[pred]
        label = torch.where(keep, pred, ignore_index).to(torch.uint8).cpu().numpy()
        path = label_path(sample.metainfo['img_path'], dataset, out_dir)
        os.makedirs(osp.dirname(path), exist_ok=True)
        _write_png_atomic(path, label)
        counts += torch.tensor([1, int(keep.sum()), keep.numel()])
    all_reduce(counts, op='sum')
    images, labelled, pixels = counts.tolist()
    stats = dict(images=images, labelled=labelled, pixels=pixels,
                 labelled_share=labelled / max(pixels, 1))
    if is_main_process():
        names = (dataset.metainfo or {}).get('classes') or ()
        if len(names) != num_classes:
            names = [str(k) for k in range(num_classes)]
        summary = dict(thresholds=dict(zip(names, thresholds.tolist())),
                       ignore_index=ignore_index, **stats)
        os.makedirs(out_dir, exist_ok=True)
        write_json_atomic(summary, osp.join(out_dir, 'thresholds.json'))
    return stats


def write_json_atomic(obj, path):
    """``json.dump`` to a temporary file, then rename it to ``path``."""
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)
