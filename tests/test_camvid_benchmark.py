"""The CamVid day->dusk benchmark driver on a generated stand-in of the CamVid folder layout."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from conftest import REPO

SCRIPT = osp.join(REPO, 'benchmarks', 'camvid_day2dusk.py')


def load_module():
    spec = importlib.util.spec_from_file_location('camvid_day2dusk', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_camvid(root, size=(72, 96)):
    """CamVid's layout with tiny random frames: day 0006R0/0016E5, dusk 0001TP, val 0016E5."""
    rng = np.random.default_rng(0)
    frames = dict(train=['0001TP_000010', '0001TP_000020', '0006R0_f00930', '0016E5_00390',
                         '0016E5_00420'], val=['0016E5_07959', '0016E5_07961'])
    for split, names in frames.items():
        os.makedirs(osp.join(root, split))
        os.makedirs(osp.join(root, f'{split}annot'))
        for name in names:
            gain = 0.4 if name.startswith('0001TP') else 1.0  # dusk is darker
            img = (rng.integers(0, 256, (*size, 3)) * gain).astype(np.uint8)
            label = rng.integers(0, 12, size).astype(np.uint8)  # 11 is void
            cv2.imwrite(osp.join(root, split, f'{name}.png'), img)
            cv2.imwrite(osp.join(root, f'{split}annot', f'{name}.png'), label)


def test_helpers(tmp_path):
    bench = load_module()
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(bench.CONFIG_DIR, 'dacs.py'))
    moved = bench.with_data_root(cfg.to_dict(), '/x')
    assert moved['train_dataloader']['dataset']['source']['data_root'] == '/x'
    assert moved['train_dataloader']['dataset']['target']['data_root'] == '/x'
    assert moved['day_test_dataset']['data_root'] == '/x'
    cfg = Config.fromfile(osp.join(bench.CONFIG_DIR, 'source_only.py'))
    old = cfg.train_cfg.max_iters
    bench.set_iters(cfg, old // 2)
    assert cfg.train_cfg.max_iters == cfg.default_hooks.checkpoint.interval == old // 2
    assert cfg.param_scheduler[-1]['end'] == old // 2
    assert cfg.param_scheduler[0]['end'] == round(50 / 2)
    md = tmp_path / 'RESULTS.md'
    md.write_text('# Results\n\nspeed table\n')
    bench.update_results_md(str(md), 'table 1')
    bench.update_results_md(str(md), 'table 2')
    text = md.read_text()
    assert 'speed table' in text and 'table 2' in text and 'table 1' not in text
    assert text.count(bench.MARK.format(':start')) == 1


def test_bad_arguments(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)

    out = run('--data-root', str(tmp_path), '--methods', 'nope')
    assert out.returncode == 2 and "unknown methods ['nope']" in out.stderr
    out = run('--data-root', str(tmp_path))
    assert out.returncode == 2 and 'no folder train/' in out.stderr


def test_end_to_end_and_cache(tmp_path):
    """A warm start and a UDA method for 2 iterations (the real tools); a second call reuses every
    run. (AdaBN's branch: the next test, with the tools stubbed.)"""
    data, work, out = tmp_path / 'camvid', tmp_path / 'work', tmp_path / 'out'
    fake_camvid(str(data))
    cmd = [sys.executable, SCRIPT, '--data-root', str(data), '--methods', 'dacs',
           '--seeds', '3', '--max-iters', '2', '--work-dir', str(work), '--out-dir', str(out)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert first.returncode == 0, (first.stdout + first.stderr)[-5000:]
    results = json.loads((out / 'results' / 'camvid_day2dusk.json').read_text())
    assert sorted(results) == ['dacs']  # the warm start ran but was not asked for
    dacs = results['dacs']['3']
    assert dacs['iters'] == 2 and dacs['config'] == 'configs/benchmarks/camvid/dacs.py'
    assert dacs['warm_start'] == 'source_only_aug'
    assert 0 <= dacs['dusk_mIoU'] <= 100 and 0 <= dacs['day_mIoU'] <= 100
    assert len(dacs['dusk_IoU']) == len(dacs['day_IoU']) == 11
    warm = next((work / 'source_only_aug').iterdir())
    dacs_dir = next((work / 'dacs').iterdir())
    assert f"load_from = '{warm / 'iter_2.pth'}'" in (dacs_dir / 'config.py').read_text()
    assert '| dacs | 1 | 2 |' in (out / 'RESULTS.md').read_text()
    # everything cached: no tool runs again, same results
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads((out / 'results' / 'camvid_day2dusk.json').read_text()) == results
    assert 'Iter(train)' not in open(dacs_dir / 'benchmark.log').read().split('Iter(train)')[-1]


def test_adabn_shares_the_warm_start_and_trains_nothing(tmp_path, monkeypatch):
    """``adabn`` re-estimates BN on the same seed's source_only_aug checkpoint, which a UDA method
    of the same call also starts from (one run of it); each is scored on dusk and day. The tools
    are stubbed: they write the files the driver reads and record their calls."""
    bench = load_module()
    data, work, out = tmp_path / 'camvid', tmp_path / 'work', tmp_path / 'out'
    fake_camvid(str(data))
    calls = []

    def tool(name, *args, log):
        calls.append((name, args))
        if name == 'train':
            cfg = bench.Config.fromfile(args[0])
            open(osp.join(args[2], f'iter_{cfg.train_cfg.max_iters}.pth'), 'w').close()
        elif name == 'adabn':
            open(args[2], 'w').close()
        else:
            metrics = {'mIoU': 50.0, **{f'IoU.c{i}': 50.0 for i in range(11)}}
            with open(args[args.index('--metrics-out') + 1], 'w') as f:
                json.dump(metrics, f)
    monkeypatch.setattr(bench, 'tool', tool)
    monkeypatch.setattr(sys, 'argv', [SCRIPT, '--data-root', str(data), '--methods', 'adabn',
                                      'dacs', '--seeds', '3', '--max-iters', '2', '--work-dir',
                                      str(work), '--out-dir', str(out)])
    bench.main()
    trained = [args[0] for name, args in calls if name == 'train']
    assert [osp.basename(osp.dirname(osp.dirname(p))) for p in trained] == ['source_only_aug',
                                                                          'dacs']
    (adabn, ) = [args for name, args in calls if name == 'adabn']
    warm = next((work / 'source_only_aug').iterdir())
    assert adabn[1] == str(warm / 'iter_2.pth') and adabn[2].endswith('adabn.pth')
    assert sum(name == 'test' for name, _ in calls) == 6  # 3 runs x (dusk, day)
    results = json.loads((out / 'results' / 'camvid_day2dusk.json').read_text())
    assert sorted(results) == ['adabn', 'dacs'] and results['adabn']['3']['iters'] == 0
    assert results['adabn']['3']['warm_start'] == 'source_only_aug'
    assert '| adabn | 1 | 0 |' in (out / 'RESULTS.md').read_text()


@pytest.mark.parametrize('prob', [0.0, 1.0])
def test_random_gaussian_blur(prob):
    from mmseg_uda.datasets.transforms import RandomGaussianBlur
    img = np.zeros((9, 9, 3), np.uint8)
    img[4, 4] = 255
    label = np.arange(81, dtype=np.uint8).reshape(9, 9)
    out = RandomGaussianBlur(prob=prob, sigma=(1.0, 1.0))(dict(img=img.copy(),
                                                                   gt_seg_map=label.copy()))
    np.testing.assert_array_equal(out['gt_seg_map'], label)
    if prob == 0:
        np.testing.assert_array_equal(out['img'], img)
    else:  # mass spread out symmetrically, centre still the maximum
        assert out['img'][4, 4, 0] < 255 and out['img'][4, 3, 0] == out['img'][4, 5, 0] > 0
    with pytest.raises(ValueError, match='sigma'):
        RandomGaussianBlur(sigma=(0, 1))


@pytest.mark.parametrize('method', sorted(f[:-3] for f in os.listdir(
    osp.join(REPO, 'configs', 'benchmarks', 'camvid')) if f.endswith('.py')))
def test_configs_build(method):
    from mmengine.config import Config
    from mmseg.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'benchmarks', 'camvid', f'{method}.py'))
    model = MODELS.build(cfg.model)
    spec = cfg.get('benchmark', {})
    assert set(spec) <= {'warm_start', 'adabn_of', 'train_only', 'cut_from', 'cut_seed'}
    if spec.get('train_only'):  # a translator (CONFETI's stage 0): trained, never scored
        assert cfg.test_dataloader is None and hasattr(model, 'generator')
        return
    if 'cut_from' in spec:
        cut = Config.fromfile(osp.join(REPO, 'configs', 'benchmarks', 'camvid',
                                       f"{spec['cut_from']}.py"))
        assert cut.benchmark.train_only and cut.model.generator == cfg.model.style.generator
    assert model.decode_head.num_classes == 11 if hasattr(model, 'decode_head') else \
        model.student.decode_head.num_classes == 11
    assert cfg.test_dataloader.dataset.sequences == ['0001TP']  # scored on dusk
    assert cfg.day_test_dataset.data_prefix.img_path == 'val'
