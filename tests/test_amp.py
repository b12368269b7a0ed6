"""Every UDA segmentor trains 12 iterations through ``tools/train.py --amp`` on the toy shift at
32x64 (CPU: bf16 autocast, ``CPUAmpOptimWrapper``): every loss it logs is finite at every
iteration and the method's contrastive terms are active."""
import math
import os.path as osp
import sys

import pytest
from conftest import REPO
from test_tools import run, tiny_options
from test_uda_integration import ACTIVE, demo_options, losses_at

ITERS = 12
SIZE = (32, 64)  # a quarter of the shared toy data's pixels: the run is dominated by start-up
DEMO = osp.join(REPO, 'configs', 'demo', '{}_toy_shift.py')
FROM = 4  # the lowered gates open by iteration 3


@pytest.fixture(scope='module')
def small_root(tmp_path_factory):
    """The toy shift at 32x64 (8 train, 4 val images per domain)."""
    from mmseg_uda.datasets import generate_toy_shift
    root = str(tmp_path_factory.mktemp('amp') / 'toy_shift')
    generate_toy_shift(root, num_train=8, num_val=4, size=SIZE)
    return root


@pytest.mark.parametrize('method', sorted(ACTIVE))
def test_amp_trains_finitely(small_root, tmp_path, method):
    """12 iterations, validation and the only checkpoint at the end: bf16 autocast on CPU was
    used; every loss logged at iterations 1-12 is finite (a non-number fails ``float`` or
    ``isfinite``); the main and contrastive losses are logged from iteration 4 on."""
    keys = ACTIVE[method][1]
    work = str(tmp_path / 'work')
    out = run([sys.executable, osp.join(REPO, 'tools', 'train.py'), DEMO.format(method), '--amp',
               '--work-dir', work]
              + tiny_options(small_root, ITERS, 'model.segmentor.data_preprocessor',
                             ('train_dataloader.dataset.source', 'train_dataloader.dataset.target'),
                             **{'model.segmentor.data_preprocessor.size': '({},{})'.format(*SIZE),
                                'train_dataloader.dataset.rare_class_sampling.min_pixels': 10,
                                'load_from': 'None', 'train_cfg.val_interval': ITERS,
                                'default_hooks.checkpoint.interval': ITERS,
                                'custom_hooks.1.interval': 10 * ITERS})
              + demo_options(method, small_root), cwd=str(tmp_path))
    assert "type='CPUAmpOptimWrapper'" in out
    assert 'mIoU' in out and osp.isfile(osp.join(work, f'iter_{ITERS}.pth'))
    assert not osp.isfile(osp.join(work, f'iter_{ITERS // 2}.pth'))
    for it in range(1, ITERS + 1):
        losses = losses_at(out, it, ITERS)
        assert losses, it
        bad = {k: v for k, v in losses.items() if not math.isfinite(float(v))}
        assert not bad, (it, bad)
        if it >= FROM:
            assert keys <= set(losses), (it, keys - set(losses))
