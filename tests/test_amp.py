"""Every UDA segmentor trains 20 iterations through ``tools/train.py --amp`` on the toy shift at
32x64 (CPU: bf16 autocast, ``CPUAmpOptimWrapper``): every loss it logs is finite at every
iteration and the method's contrastive terms are active."""
import math
import os.path as osp
import re
import sys

import pytest
from conftest import REPO
from test_tools import run, tiny_options

ITERS = 20
SIZE = (32, 64)  # a quarter of the shared toy data's pixels: the run is dominated by start-up
DEMO = osp.join(REPO, 'configs', 'demo', '{}_toy_shift.py')
LOSS_KEY = re.compile(r'^(?:loss|(?:src|mix|clda|cut|sdca|pull|tgt)\.[\w.]+)$')
# method: (extra --cfg-options as in test_uda_integration.py (gates lowered), keys logged at
# every iteration from FROM on)
METHODS = {
    'dacs': ([], {'src.decode.loss_ce', 'mix.decode.loss_ce', 'mix.pseudo_weight'}),
    'clda': (['model.ema.interval=2', 'model.pseudo_scales=(0.5,1.0)'],
             {'clda.src.decode.loss_ce', 'clda.tgt.decode.loss_ce', 'clda.loss_in_src',
              'clda.loss_in_tgt', 'clda.loss_cross'}),
    'rccr': (['model.region_contrast.confidence=0.0'],
             {'src.decode.loss_ce', 'mix.decode.loss_ce', 'cut.loss_rwc', 'cut.rwc'}),
    'sdca': (['custom_hooks.2.dataloader.dataset.data_root={root}', 'model.target_threshold=0.5'],
             {'sdca.src.decode.loss_ce', 'sdca.src.loss_lovasz', 'sdca.loss_feat_src',
              'sdca.loss_out_src', 'sdca.loss_feat_tgt', 'sdca.loss_out_tgt'}),
    't2sda': ([], {'src.decode.loss_ce', 'mix.decode.loss_ce', 'pull.loss_pull', 'pull.pull'}),
    'confeti': (['model.prototypes.cam_start_iter=1', 'model.pcl.start_iter=2',
                 'model.cam_loss.mixed_start_iter=1', 'model.pcl.num_samples=256'],
                {'src.decode.loss_ce', 'src.loss_cam', 'src.loss_pcl', 'src.loss_reg',
                 'cut.loss_d', 'cut.loss_g_gan', 'cut.loss_nce', 'cut.loss_nce_idt', 'cut.loss_sc',
                 'mix.decode.loss_ce', 'mix.loss_cam', 'mix.loss_pcl', 'tgt.loss_pcl'}),
}
FROM = 4  # the lowered gates open by iteration 3


@pytest.fixture(scope='module')
def small_root(tmp_path_factory):
    """The toy shift at 32x64 (8 train, 4 val images per domain)."""
    from mmseg_uda.datasets import generate_toy_shift
    root = str(tmp_path_factory.mktemp('amp') / 'toy_shift')
    generate_toy_shift(root, num_train=8, num_val=4, size=SIZE)
    return root


def logged_losses(out, it):
    """{key: value string} of the losses logged at train iteration ``it``."""
    tag = f'Iter(train) [{it:>{len(str(ITERS))}}/{ITERS}]'  # mmengine pads the count
    line = [x for x in out.splitlines() if tag in x][-1]
    return {k: v for k, v in re.findall(r'([\w.]+): (\S+)', line) if LOSS_KEY.match(k)}


@pytest.mark.parametrize('method', sorted(METHODS))
def test_amp_trains_finitely(small_root, tmp_path, method):
    """20 iterations, validation and the only checkpoint at the end: bf16 autocast on CPU was
    used; every loss logged at iterations 1-20 is finite (a non-number fails ``float`` or
    ``isfinite``); the main and contrastive losses are logged from iteration 4 on."""
    extra, keys = METHODS[method]
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
              + [e.format(root=small_root) for e in extra], cwd=str(tmp_path))
    assert "type='CPUAmpOptimWrapper'" in out
    assert 'mIoU' in out and osp.isfile(osp.join(work, f'iter_{ITERS}.pth'))
    assert not osp.isfile(osp.join(work, f'iter_{ITERS // 2}.pth'))
    for it in range(1, ITERS + 1):
        losses = logged_losses(out, it)
        assert losses, it
        bad = {k: v for k, v in losses.items() if not math.isfinite(float(v))}
        assert not bad, (it, bad)
        if it >= FROM:
            assert keys <= set(losses), (it, keys - set(losses))
