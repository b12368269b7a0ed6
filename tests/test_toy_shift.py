"""Generated toy_shift data: determinism, labels, domain shift, safety, dataset class."""
import functools
import hashlib
import glob
import json
import multiprocessing as mp
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest

import mmseg_uda  # noqa: F401
from mmseg.registry import DATASETS
from mmseg_uda.datasets import toy_shift
from mmseg_uda.datasets.toy_shift import (TOY_SHIFT_CLASSES, ToyShiftDataset,
                                          generate_toy_shift)

SMALL = dict(num_train=24, num_val=4, size=(128, 256), seed=0)
POLE = TOY_SHIFT_CLASSES.index('pole')


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    return generate_toy_shift(str(tmp_path_factory.mktemp('toy') / 'toy_shift'), **SMALL)


def read(root, domain, split, kind):
    flag = cv2.IMREAD_COLOR if kind == 'images' else cv2.IMREAD_UNCHANGED
    paths = sorted(glob.glob(osp.join(root, domain, split, kind, '*.png')))
    return np.stack([cv2.imread(p, flag) for p in paths])


def tree_bytes(root):
    files = sorted(glob.glob(osp.join(root, '**', '*.*'), recursive=True))
    return {osp.relpath(f, root): open(f, 'rb').read() for f in files}


def test_layout_and_marker(root):
    for domain in ('source', 'target'):
        for split, num in (('train', 24), ('val', 4)):
            for kind in ('images', 'labels'):
                names = sorted(os.listdir(osp.join(root, domain, split, kind)))
                assert names == [f'{i:04d}.png' for i in range(num)]
    with open(osp.join(root, 'toy_shift.json')) as f:
        marker = json.load(f)
    assert marker == dict(version=toy_shift.TOY_SHIFT_VERSION, num_train=24, num_val=4,
                          size=[128, 256], seed=0)
    assert not [n for n in os.listdir(osp.dirname(root)) if '.tmp' in n]


def test_deterministic(root, tmp_path):
    again = generate_toy_shift(str(tmp_path / 'other'), **SMALL)
    assert tree_bytes(again) == tree_bytes(root)
    assert generate_toy_shift(root, **SMALL) == root  # existing, matching: no-op


def test_labels(root):
    for domain in ('source', 'target'):
        imgs, labels = read(root, domain, 'train', 'images'), read(root, domain, 'train', 'labels')
        assert labels.dtype == np.uint8 and labels.ndim == 3
        assert imgs.shape[:3] == labels.shape == (24, 128, 256)
        values = np.unique(labels)
        assert set(values) <= set(range(len(TOY_SHIFT_CLASSES))) | {255}
        assert set(values) >= set(range(len(TOY_SHIFT_CLASSES)))  # every class present
        freq = np.bincount(labels.ravel(), minlength=256) / labels.size
        assert 0 < freq[POLE] < 0.02  # rare class
        assert freq[255] < 0.05


def test_target_is_shifted(root):
    src, tgt = read(root, 'source', 'train', 'images'), read(root, 'target', 'train', 'images')
    src_lbl, tgt_lbl = read(root, 'source', 'train', 'labels'), read(root, 'target', 'train',
                                                                      'labels')
    assert src.mean() - tgt.mean() > 20  # darker
    assert src.std() - tgt.std() > 15  # lower contrast
    sky = TOY_SHIFT_CLASSES.index('sky')
    src_sky, tgt_sky = src[src_lbl == sky].mean(0), tgt[tgt_lbl == sky].mean(0)
    assert np.abs(src_sky - tgt_sky).max() > 40  # different colours
    # textures: more pixel-to-pixel variation inside vegetation and buildings in the target
    for name in ('vegetation', 'building'):
        c = TOY_SHIFT_CLASSES.index(name)
        src_tex, tgt_tex = (np.abs(np.diff(img.astype(float), axis=2)).mean(3)[
            (lbl[:, :, 1:] == c) & (lbl[:, :, :-1] == c)].mean()
            for img, lbl in ((src, src_lbl), (tgt, tgt_lbl)))
        assert tgt_tex > 1.6 * src_tex, name


def test_marker_mismatch(root, tmp_path):
    with pytest.raises(ValueError, match=re.escape(root)):
        generate_toy_shift(root, **dict(SMALL, seed=1))
    (tmp_path / 'user').mkdir()
    (tmp_path / 'user' / 'data.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='user'):
        generate_toy_shift(str(tmp_path / 'user'), **SMALL)
    assert (tmp_path / 'user' / 'data.txt').read_text() == 'mine'


def test_lost_rename_race(tmp_path, monkeypatch):
    """Another process fills ``root`` just before our rename: we keep theirs, drop our temp dir."""
    real_rename, root = os.rename, str(tmp_path / 'toy')

    def rename(src, dst):
        monkeypatch.setattr(os, 'rename', real_rename)
        generate_toy_shift(dst, **dict(SMALL, num_train=2, num_val=1))
        real_rename(src, dst)

    monkeypatch.setattr(os, 'rename', rename)
    assert generate_toy_shift(root, **dict(SMALL, num_train=2, num_val=1)) == root
    assert sorted(os.listdir(tmp_path)) == ['toy']


def _generate(barrier, root):
    barrier.wait()
    generate_toy_shift(root, **dict(SMALL, num_train=6, num_val=2))


@pytest.mark.skipif('fork' not in mp.get_all_start_methods(), reason='needs fork')
def test_concurrent_generation(tmp_path):
    root, ctx = str(tmp_path / 'toy'), mp.get_context('fork')
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_generate, args=(barrier, root)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    assert sorted(os.listdir(tmp_path)) == ['toy']
    expected = generate_toy_shift(str(tmp_path / 'ref'), **dict(SMALL, num_train=6, num_val=2))
    assert tree_bytes(root) == tree_bytes(expected)


def test_dataset(root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
    ds = DATASETS.build(dict(type='ToyShiftDataset', data_root=root, domain='target',
                             split='train', with_labels=False, pipeline=pipeline))
    assert isinstance(ds, ToyShiftDataset) and len(ds) == 24
    assert ds.metainfo['classes'] == TOY_SHIFT_CLASSES and len(ds.metainfo['palette']) == 7
    assert 'seg_map_path' not in ds.get_data_info(0)
    assert ds[0]['inputs'].shape == (3, 128, 256)

    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='PackSegInputs')]
    ds = DATASETS.build(dict(type='ToyShiftDataset', data_root=root, domain='source',
                             split='val', pipeline=pipeline))
    assert len(ds) == 4
    seg = ds[0]['data_samples'].gt_sem_seg.data
    assert seg.shape == (1, 128, 256) and seg.min() == 0
    assert set(seg.unique().tolist()) <= set(range(7)) | {255}


def test_dataset_generates_and_validates(tmp_path, monkeypatch):
    small = functools.partial(generate_toy_shift, **dict(SMALL, num_train=3, num_val=1))
    monkeypatch.setattr(toy_shift, 'generate_toy_shift', small)
    ds = ToyShiftDataset(data_root=str(tmp_path / 'new'), split='val', pipeline=[])
    assert len(ds) == 1 and osp.isfile(tmp_path / 'new' / 'toy_shift.json')
    with pytest.raises(ValueError, match='sourse'):
        ToyShiftDataset(domain='sourse', data_root=str(tmp_path / 'new'))
    with pytest.raises(ValueError, match='test'):
        ToyShiftDataset(split='test', data_root=str(tmp_path / 'new'))


# -- adverse target cameras (--shift night|fog) --------------------------------------------------
@pytest.fixture(scope='module')
def shifted(tmp_path_factory, root):
    small = dict(SMALL, num_train=8)
    dusk = generate_toy_shift(str(tmp_path_factory.mktemp('toy') / 'dusk'), **small)
    return {'dusk': dusk, **{s: generate_toy_shift(str(tmp_path_factory.mktemp('toy') / s),
                                                   shift=s, **small) for s in ('night', 'fog')}}


def test_shifts_change_only_the_target_images(shifted):
    """Same layouts, labels and source images for every shift; only the target camera differs."""
    dusk = tree_bytes(shifted['dusk'])
    for shift in ('night', 'fog'):
        other = tree_bytes(shifted[shift])
        assert other.keys() == dusk.keys()
        differ = {k for k in dusk if k != 'toy_shift.json' and dusk[k] != other[k]}
        assert differ == {k for k in dusk if k.startswith('target') and '/images/' in k}, shift
        with open(osp.join(shifted[shift], 'toy_shift.json')) as f:
            assert json.load(f)['shift'] == shift
    with open(osp.join(shifted['dusk'], 'toy_shift.json')) as f:
        assert 'shift' not in json.load(f)  # markers of earlier dusk datasets stay valid


def test_dusk_images_are_those_of_the_published_demo(tmp_path):
    """The dusk camera draws exactly as before the shifts existed (the README's demo numbers)."""
    root = generate_toy_shift(str(tmp_path / 'd'), num_train=1, num_val=1)
    with open(osp.join(root, 'target', 'train', 'images', '0000.png'), 'rb') as f:
        assert hashlib.sha1(f.read()).hexdigest() == '2d62637ba7470f12030d386c21a3ef48f6c131d1'


def test_night_is_dark_and_noisy_fog_is_bright_and_flat(shifted):
    imgs = {s: read(r, 'target', 'train', 'images').astype(float) for s, r in shifted.items()}
    assert imgs['night'].mean() < 0.5 * imgs['dusk'].mean()
    # noise: the mean absolute difference of neighbours relative to the brightness
    rough = {s: np.abs(np.diff(x, axis=2)).mean() / x.mean() for s, x in imgs.items()}
    assert rough['night'] > 1.3 * rough['dusk']
    assert imgs['fog'].mean() > imgs['dusk'].mean() + 60  # airlight
    assert imgs['fog'].std() < 0.8 * imgs['dusk'].std()  # transmission t < 1 flattens contrast


def test_shift_errors(shifted, tmp_path):
    with pytest.raises(ValueError, match=r"shift must be one of \('dusk', 'night', 'fog'\)"):
        generate_toy_shift(str(tmp_path / 'x'), shift='rain')
    with pytest.raises(ValueError, match="generated with shift='night', not 'dusk'.*toy_shift_dusk"):
        ToyShiftDataset(data_root=shifted['night'], domain='target', split='val', pipeline=[])
    ds = ToyShiftDataset(data_root=shifted['fog'], domain='target', split='val', shift='fog',
                         pipeline=[])
    assert len(ds) == SMALL['num_val']


def test_demo_points_every_dataset_at_the_shift():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'run_demo', osp.join(osp.dirname(osp.dirname(__file__)), 'tools', 'run_demo.py'))
    run_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_demo)
    assert run_demo.data_options('dusk') == []
    opts = run_demo.data_options('night')
    assert 'train_dataloader.dataset.target.shift=night' in opts
    assert 'test_dataloader.dataset.data_root=data/toy_shift_night' in opts
    assert run_demo.SHIFTS == toy_shift.SHIFTS
