import os.path as osp
import uuid
from types import SimpleNamespace
from unittest.mock import MagicMock

import cv2
import numpy as np
import pytest
import torch
from mmengine.visualization import Visualizer
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mmseg.registry import HOOKS
from mmseg.visualization import SegLocalVisualizer
from mmseg_uda.engine import UDADebugVisualizationHook
from mmseg_uda.engine.hooks.uda_debug_hook import build_palette, fallback_palette

B, H, W, SEP = 3, 4, 6, 2
PALETTE = [[10, 20, 30], [40, 50, 60], [70, 80, 90]]


def _debug_output():
    label = torch.full((B, H, W), 255, dtype=torch.long)
    label[:, 0, 0] = 1
    label[:, 0, 1] = 2
    return dict(
        source_img=torch.full((B, 3, H, W), 300.0),  # clamped to 255
        source_label=label,
        target_img=torch.zeros(B, 3, H, W),
        pseudo_label=label.clone(),
        pseudo_weight=torch.full((B, H, W), 0.5),
        mixed_img=torch.full((B, 3, H, W), 100.0),
        mixed_label=label.clone(),
        mix_mask=torch.ones(B, 1, H, W, dtype=torch.bool))


def _runner(tmp_path, debug_output, it, palette=PALETTE, model=None):
    vis = SegLocalVisualizer(name=f'vis_{uuid.uuid4().hex}',
                             vis_backends=[dict(type='LocalVisBackend')], save_dir=str(tmp_path))
    vis.dataset_meta = dict(classes=('x', 'y', 'z'), palette=palette)
    runner = MagicMock()
    runner.iter = it
    runner.model = model if model is not None else SimpleNamespace(debug_output=debug_output)
    runner.visualizer = vis
    return runner


def _png(tmp_path, step):
    return osp.join(tmp_path, 'vis_data', 'vis_image', f'uda_debug_{step}.png')


def _read(path):
    assert osp.isfile(path), path
    return cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)


def _top(grid, rows):
    """Height of the title strip and its separator: what is above ``rows`` rows of tiles."""
    return grid.shape[0] - (rows * H + (rows - 1) * SEP)


def _tile(grid, row, col, rows=B):
    y, x = _top(grid, rows) + row * (H + SEP), col * (W + SEP)
    return grid[y:y + H, x:x + W]


TITLES = ['source', 'source label', 'target', 'pseudo-label', 'pseudo weight', 'mixed',
          'mixed label', 'mix mask']


def test_hook_writes_full_grid_at_interval(tmp_path):
    hook = HOOKS.build(dict(type='UDADebugVisualizationHook', interval=5))
    runner = _runner(tmp_path, _debug_output(), it=4)
    hook.after_train_iter(runner, batch_idx=4)
    grid = _read(_png(tmp_path, 5))
    assert grid.shape[1:] == (8 * W + 7 * SEP, 3)  # 8 columns
    top = _top(grid, B)  # every row of the batch is drawn by default
    assert top > SEP and (grid[top - SEP:top] == 255).all()  # title strip, separator
    assert (grid[top + H:top + H + SEP] == 255).all()  # separator row
    for row in range(B):
        assert (_tile(grid, row, 0) == 255).all()  # source image, clamped
        src_label = _tile(grid, row, 1)
        assert src_label[0, 0].tolist() == PALETTE[1]
        assert src_label[0, 1].tolist() == PALETTE[2]
        assert src_label[1, 1].tolist() == [0, 0, 0]  # ignore is black
        assert (_tile(grid, row, 2) == 0).all()  # target image
        assert _tile(grid, row, 3)[0, 0].tolist() == PALETTE[1]  # pseudo-label
        assert (_tile(grid, row, 4) == 127).all()  # confidence 0.5 as grey
        assert (_tile(grid, row, 5) == 100).all()  # mixed image
        assert _tile(grid, row, 6)[0, 1].tolist() == PALETTE[2]  # mixed label
        assert (_tile(grid, row, 7) == 255).all()  # mix mask (B, 1, H, W) bool


def test_grid_has_column_titles_and_all_rows(tmp_path):
    from mmseg_uda.engine.hooks.uda_debug_hook import header_strip, make_debug_grid
    grid = make_debug_grid(_debug_output(), PALETTE, sep=SEP)
    top = _top(grid, B)
    strip = grid[:top - SEP]
    assert len(strip) >= 10  # readable text height
    for col in range(len(TITLES)):  # black text on white in every column header
        cell = strip[:, col * (W + SEP):col * (W + SEP) + W]
        assert (cell == 255).any() and (cell < 128).any()
    np.testing.assert_array_equal(strip, header_strip(TITLES, W, SEP))  # titles in column order
    assert header_strip(['source'], W, SEP).tolist() != header_strip(['target'], W, SEP).tolist()
    assert _tile(grid, B - 1, 1)[0, 0].tolist() == PALETTE[1]  # the last sample is drawn
    two = make_debug_grid(_debug_output(), PALETTE, max_images=2, sep=SEP)
    assert two.shape[0] == top + 2 * H + SEP


def test_hook_skips_other_iterations_and_disabled(tmp_path):
    hook = UDADebugVisualizationHook(interval=5)
    for it in (0, 3, 5, 8):
        hook.after_train_iter(_runner(tmp_path, _debug_output(), it=it), batch_idx=it)
    UDADebugVisualizationHook(interval=5, enabled=False).after_train_iter(
        _runner(tmp_path, _debug_output(), it=9), batch_idx=9)
    assert not osp.exists(osp.join(tmp_path, 'vis_data', 'vis_image'))


def test_hook_skips_missing_keys_and_resizes(tmp_path):
    out = _debug_output()
    out = dict(target_img=out['target_img'], pseudo_label=out['pseudo_label'],
               mix_mask=torch.zeros(B, 2 * H, 2 * W), source_label=None)
    hook = UDADebugVisualizationHook(interval=1, max_images=5)
    hook.after_train_iter(_runner(tmp_path, out, it=0), batch_idx=0)
    grid = _read(_png(tmp_path, 1))
    assert grid.shape[1:] == (3 * W + 2 * SEP, 3) and _top(grid, B) > SEP  # B rows < max_images
    assert (_tile(grid, 0, 0) == 0).all()
    assert _tile(grid, 2, 1)[0, 0].tolist() == PALETTE[1]
    assert (_tile(grid, 1, 2) == 0).all()


@pytest.mark.parametrize('debug_output', ['missing', None, {}])
def test_hook_without_debug_output(tmp_path, debug_output):
    model = SimpleNamespace() if debug_output == 'missing' else None
    runner = _runner(tmp_path, debug_output, it=0, model=model)
    UDADebugVisualizationHook(interval=1).after_train_iter(runner, batch_idx=0)
    assert not osp.exists(osp.join(tmp_path, 'vis_data', 'vis_image'))


def test_hook_unwraps_ddp(tmp_path):
    inner = nn.Linear(1, 1)
    inner.debug_output = dict(source_label=torch.ones(1, H, W, dtype=torch.long))
    ddp = DistributedDataParallel.__new__(DistributedDataParallel)  # no process group needed
    nn.Module.__init__(ddp)
    ddp.module = inner
    UDADebugVisualizationHook(interval=1).after_train_iter(
        _runner(tmp_path, None, it=0, model=ddp), batch_idx=0)
    grid = _read(_png(tmp_path, 1))
    assert grid.shape[1] == W and (_tile(grid, 0, 0, rows=1) == PALETTE[1]).all()


def test_palette_fallback(tmp_path):
    lut = fallback_palette()
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert (lut == fallback_palette()).all()  # deterministic
    assert len({tuple(c) for c in lut}) > 200  # distinct colours
    assert (build_palette(None)[255] == 0).all()
    short = build_palette(PALETTE)  # ids beyond the dataset palette use the fallback
    assert short[1].tolist() == PALETTE[1] and (short[7] == lut[7]).all()

    label = torch.full((1, H, W), 7, dtype=torch.long)
    label[0, 0, 0] = 255
    vis = Visualizer(name=f'vis_{uuid.uuid4().hex}', vis_backends=[dict(type='LocalVisBackend')],
                     save_dir=str(tmp_path))  # plain visualizer: dataset_meta is None
    runner = _runner(tmp_path, dict(pseudo_label=label), it=0)
    runner.visualizer = vis
    UDADebugVisualizationHook(interval=1).after_train_iter(runner, batch_idx=0)
    tile = _tile(_read(_png(tmp_path, 1)), 0, 0, rows=1)
    assert tile[0, 0].tolist() == [0, 0, 0]
    assert tile[1, 1].tolist() == lut[7].tolist()


def test_hook_invalid_args():
    with pytest.raises(ValueError, match=r'interval \(0\)'):
        UDADebugVisualizationHook(interval=0)
    with pytest.raises(ValueError, match=r'max_images \(0\)'):
        UDADebugVisualizationHook(max_images=0)
