"""Hook that saves a grid image of what the UDA segmentor did in a training iteration."""
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

IGNORE_INDEX = 255
# (key, kind, title) in column order; kind selects how a tile is drawn, title heads the column.
DEBUG_COLUMNS = (('source_img', 'img', 'source'), ('stylised_img', 'img', 'stylised source'),
                 ('pseudo_target_img', 'img', 'pseudo-target'),
                 ('source_label', 'label', 'source label'), ('target_img', 'img', 'target'),
                 ('pseudo_label', 'label', 'pseudo-label'),
                 ('pseudo_weight', 'grey', 'pseudo weight'), ('mixed_img', 'img', 'mixed'),
                 ('mixed_label', 'label', 'mixed label'), ('mix_mask', 'grey', 'mix mask'),
                 ('cut_img', 'img', 'CutMix image'), ('masked_img', 'img', 'masked target'))
FONT = cv2.FONT_HERSHEY_SIMPLEX


def fallback_palette(num: int = 256, seed: int = 0) -> np.ndarray:
    """Deterministic (num, 3) uint8 RGB palette for label maps without a dataset palette."""
    return np.random.RandomState(seed).randint(0, 256, (num, 3)).astype(np.uint8)


def build_palette(palette: Optional[Sequence] = None) -> np.ndarray:
    """(256, 3) uint8 lookup table: the dataset palette, then the fallback; 255 is black."""
    lut = fallback_palette(256)
    if palette is not None and len(palette) > 0:
        palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)[:256]
        lut[:len(palette)] = palette
    lut[IGNORE_INDEX] = 0
    return lut


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        x = x.float() if x.dtype == torch.bool else x
        return x.numpy()
    return np.asarray(x)


def _tile(x: np.ndarray, kind: str, lut: np.ndarray) -> np.ndarray:
    """Draw one sample (CHW image, HW label or HW / 1HW weight) as an HWC uint8 RGB tile."""
    if kind == 'img':
        return np.clip(x.transpose(1, 2, 0), 0, 255).astype(np.uint8)
    x = x.reshape(x.shape[-2:]) if x.ndim == 3 else x
    if kind == 'label':
        x = x.astype(np.int64)
        x = np.where((x < 0) | (x > 255), IGNORE_INDEX, x)
        return lut[x]
    grey = np.clip(x.astype(np.float32) * 255, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def header_strip(titles: Sequence[str], width: int, sep: int) -> np.ndarray:
    """White RGB strip with one black title per column of ``width`` pixels (columns ``sep``
    apart); the font is scaled to the column width (within 0.3-0.6), a title wider than its
    column is cut at the column's edge."""
    widest = max(cv2.getTextSize(t, FONT, 1.0, 1)[0][0] for t in titles)
    scale = float(np.clip(0.95 * (width - 4) / widest, 0.3, 0.6))
    (_, text_h), baseline = cv2.getTextSize('Ag', FONT, scale, 1)
    height = text_h + baseline + 6
    strip = np.full((height, len(titles) * (width + sep) - sep, 3), 255, dtype=np.uint8)
    for c, title in enumerate(titles):
        cell = np.full((height, width, 3), 255, dtype=np.uint8)  # own canvas: no overflow
        cv2.putText(cell, title, (2, 3 + text_h), FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)
        strip[:, c * (width + sep):c * (width + sep) + width] = cell
    return strip


def make_debug_grid(debug_output: dict, palette: Optional[Sequence] = None,
                    max_images: Optional[int] = None, sep: int = 2) -> Optional[np.ndarray]:
    """Grid of tiles under a header strip of column titles: one row per sample (all of the
    batch, or the first ``max_images``), one column per present key of ``DEBUG_COLUMNS``.

    Tiles are resized to the size of the first tile (nearest for labels and masks) and
    separated by ``sep`` white pixels. Returns an RGB uint8 array, or None if nothing to draw.
    """
    lut = build_palette(palette)
    cols = [(_to_numpy(debug_output[k]), kind, title) for k, kind, title in DEBUG_COLUMNS
            if debug_output.get(k) is not None]
    if not cols:
        return None
    rows = min([len(x) for x, _, _ in cols] + ([max_images] if max_images is not None else []))
    if rows <= 0:
        return None
    tiles = [[_tile(x[r], kind, lut) for x, kind, _ in cols] for r in range(rows)]
    h, w = tiles[0][0].shape[:2]
    header = header_strip([title for _, _, title in cols], w, sep)
    top = len(header) + sep
    grid = np.full((top + rows * h + (rows - 1) * sep, len(cols) * w + (len(cols) - 1) * sep, 3),
                   255, dtype=np.uint8)
    grid[:len(header)] = header
    for r, row in enumerate(tiles):
        y = top + r * (h + sep)
        for c, (tile, (_, kind, _)) in enumerate(zip(row, cols)):
            if tile.shape[:2] != (h, w):
                interp = cv2.INTER_LINEAR if kind == 'img' else cv2.INTER_NEAREST
                tile = cv2.resize(tile, (w, h), interpolation=interp)
            grid[y:y + h, c * (w + sep):c * (w + sep) + w] = tile
    return grid


@HOOKS.register_module()
class UDADebugVisualizationHook(Hook):
    """Save a grid of the UDA segmentor's ``debug_output`` every ``interval`` iterations.

    The (unwrapped) model's ``debug_output`` dict may hold source/target/mixed images
    (B, 3, H, W in [0, 255]), source/pseudo/mixed labels (B, H, W, 255 = ignore),
    ``pseudo_weight`` (B, H, W in [0, 1]) and ``mix_mask`` (B, [1,] H, W). Rows are samples,
    columns follow :data:`DEBUG_COLUMNS` (missing keys skipped) under a strip of their titles.
    Labels use the visualizer's ``dataset_meta['palette']`` (else :func:`fallback_palette`),
    ignore is black. The image goes to ``runner.visualizer.add_image('uda_debug', grid,
    step=runner.iter + 1)``; with the default ``LocalVisBackend`` that is
    ``<work_dir>/<timestamp>/vis_data/vis_image/uda_debug_<iteration>.png``.

    Args:
        interval (int): Draw every ``interval`` training iterations. Defaults to 1000.
        max_images (int, optional): Maximum number of rows (batch samples); None draws the whole
            (per-process) batch. Defaults to None.
        enabled (bool): Whether the hook draws at all. Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1000, max_images: Optional[int] = None,
                 enabled: bool = True):
        if interval <= 0 or (max_images is not None and max_images <= 0):
            raise ValueError(f'UDADebugVisualizationHook: interval ({interval}) and max_images '
                             f'({max_images}) must be positive (max_images=None: all rows)')
        self.interval = interval
        self.max_images = max_images
        self.enabled = enabled

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.enabled or not self.every_n_train_iters(runner, self.interval):
            return
        if not is_main_process():
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        debug_output = getattr(model, 'debug_output', None)
        if not isinstance(debug_output, dict) or not debug_output:
            return
        meta = getattr(runner.visualizer, 'dataset_meta', None) or {}
        grid = make_debug_grid(debug_output, meta.get('palette'), self.max_images)
        if grid is not None:
            runner.visualizer.add_image('uda_debug', grid, step=runner.iter + 1)
