"""tools/train.py, tools/test.py and tools/dist_train.sh end to end on tiny generated data (CPU)."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import REPO, free_port


DEMO = osp.join(REPO, 'configs', 'demo', 'source_only_toy_shift.py')




def tiny_options(root, iters, preprocessor='model.data_preprocessor',
                 train_sets=('train_dataloader.dataset', ), **extra):
    """--cfg-options for a few iterations at 64x128 on the tiny toy data (absolute data paths)."""
    opts = {f'{key}.data_root': root for key in train_sets}
    opts.update({
        'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
        f'{preprocessor}.size': '(64,128)',
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.logger.interval': 1,
    })
    opts.update(extra)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def run(cmd, cwd, **env):
    """Run a tool from a foreign folder (``cwd``) and return its output; fail with the output."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, 'OMP_NUM_THREADS': '1', **env})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def last_miou(out):
    return float(re.findall(r'mIoU: ([\d.]+)', out)[-1])


def test_train_resume_test(toy_root, tmp_path):
    work = str(tmp_path / 'work')
    train = [sys.executable, osp.join(REPO, 'tools', 'train.py'), DEMO, '--work-dir', work]
    out = run(train + tiny_options(toy_root, 4), cwd=str(tmp_path))
    assert osp.isfile(osp.join(work, 'iter_4.pth'))
    assert 'Iter(train) [4/4]' in out and 'mIoU' in out
    # --resume continues from iter 4 in the same work dir
    out = run(train + ['--resume'] + tiny_options(toy_root, 6), cwd=str(tmp_path))
    assert 'resumed epoch: 0, iter: 4' in out
    assert 'Iter(train) [5/6]' in out and 'Iter(train) [1/6]' not in out
    val_miou = last_miou(out)
    assert osp.isfile(osp.join(work, 'iter_6.pth'))
    # test.py reproduces the last validation and paints predictions
    show = str(tmp_path / 'show')
    test = [sys.executable, osp.join(REPO, 'tools', 'test.py'), DEMO,
            osp.join(work, 'iter_6.pth'), '--work-dir', work, '--show-dir', show]
    out = run(test + tiny_options(toy_root, 6), cwd=str(tmp_path))
    assert last_miou(out) == pytest.approx(val_miou, abs=0.01)
    painted = [f for _, _, files in os.walk(show) for f in files if f.endswith('.png')]
    assert len(painted) == 4


def test_amp_on_cpu(toy_root, tmp_path):
    out = run([sys.executable, osp.join(REPO, 'tools', 'train.py'), DEMO, '--amp',
               '--work-dir', str(tmp_path / 'amp')] + tiny_options(toy_root, 2), cwd=str(tmp_path))
    assert "type='CPUAmpOptimWrapper'" in out and 'Iter(train) [2/2]' in out
    loss = float(re.findall(r'decode.loss_ce: ([\d.]+)', out)[-1])
    assert 0 < loss < 10


def test_dist_train_and_test_two_cpu_processes(toy_root, tmp_path):
    work = str(tmp_path / 'dist')
    out = run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), DEMO, '2', '--work-dir', work]
              + tiny_options(toy_root, 2), cwd=str(tmp_path), PYTHON=sys.executable,
              PORT=free_port())
    assert osp.isfile(osp.join(work, 'iter_2.pth'))
    assert 'Distributed training: True' in out and 'GPU number: 2' in out  # 2 ranks (gloo)
    assert 'Iter(train) [2/2]' in out
    out = run(['bash', osp.join(REPO, 'tools', 'dist_test.sh'), DEMO, osp.join(work, 'iter_2.pth'),
               '2', '--work-dir', work] + tiny_options(toy_root, 2), cwd=str(tmp_path),
              PYTHON=sys.executable, PORT=free_port())
    assert 'GPU number: 2' in out and 0 <= last_miou(out) <= 100


def test_config_without_plugin_import_is_rejected(tmp_path):
    cfg = tmp_path / 'bad.py'
    cfg.write_text("default_scope = 'mmseg'\nmodel = dict(type='EncoderDecoder')\n")
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'train.py'), str(cfg)],
                          capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode != 0
    assert f'config {cfg}: custom_imports must import the plugin' in proc.stderr
