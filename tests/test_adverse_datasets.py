"""ACDC and Dark Zurich datasets, and the Cityscapes -> ACDC / Dark Zurich configs, on tiny
generated stand-ins of the published folder layouts (no real data)."""
import glob
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import REPO
from mmengine.config import Config
from mmseg.registry import DATASETS

ACDC = ('fog', 'night', 'rain', 'snow')
SHAPE = (64, 128)  # h, w
# trainIds 0..18 and the ignore index, in bands wide enough for rare-class sampling's 3000 pixels
LABEL = np.repeat(np.array([0, 1, 2, 13, 255], np.uint8), [3200, 3200, 1000, 600, 192])
LABEL = LABEL.reshape(SHAPE)


def write_image(path, seed=0):
    os.makedirs(osp.dirname(path), exist_ok=True)
    img = np.random.default_rng(seed).integers(0, 256, (*SHAPE, 3), dtype=np.uint8)
    assert cv2.imwrite(path, img)


def write_label(path, label=LABEL):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(path, label)


def frame(seq, i):
    return f'{seq}_frame_{i:06d}'


def make_acdc(root, splits=('train', 'val', 'test'), conditions=ACDC, n=2):
    """ACDC's layout: rgb_anon/<condition>/<split>/<sequence>/, gt likewise (not for test), and a
    reference folder per split whose images would match the image suffix."""
    for c in conditions:
        for split in splits:
            for i in range(n):
                name = frame(f'GOPR{c}', i)
                write_image(osp.join(root, 'rgb_anon', c, split, f'GOPR{c}',
                                     f'{name}_rgb_anon.png'))
                write_image(osp.join(root, 'rgb_anon', c, f'{split}_ref', f'GOPR{c}_ref',
                                     f'{name}_rgb_anon.png'))
                if split != 'test':
                    write_label(osp.join(root, 'gt', c, split, f'GOPR{c}',
                                         f'{name}_gt_labelTrainIds.png'))
                    write_label(osp.join(root, 'gt', c, split, f'GOPR{c}',
                                         f'{name}_gt_labelIds.png'), LABEL + 7)
    return root


def make_acdc_flat(root, split='train', n=3):
    """DAFormer's rearranged ACDC layout: rgb_anon/<split>/*.png, gt/<split>/*_labelTrainIds.png."""
    for i in range(n):
        name = frame('GOPR0475', i)
        write_image(osp.join(root, 'rgb_anon', split, f'{name}_rgb_anon.png'))
        write_image(osp.join(root, 'rgb_anon', split, f'{name}_rgb_ref_anon.png'))
        write_label(osp.join(root, 'gt', split, f'{name}_gt_labelTrainIds.png'))
    return root


def make_dark_zurich(root, n=2):
    """Dark Zurich's layout: rgb_anon/<split>/<condition>/<sequence>/; val labels; val_ref."""
    for split, conditions in (('train', ('day', 'twilight', 'night')), ('val', ('night', )),
                              ('test', ('night', ))):
        for c in conditions:
            for i in range(n):
                name = frame(f'GOPR{split}{c}', i)
                write_image(osp.join(root, 'rgb_anon', split, c, f'GOPR{c}',
                                     f'{name}_rgb_anon.png'))
                if split == 'val':
                    write_label(osp.join(root, 'gt', split, c, f'GOPR{c}',
                                         f'{name}_gt_labelTrainIds.png'))
                    write_image(osp.join(root, 'rgb_anon', 'val_ref', 'day', f'GOPR{c}_ref',
                                         f'{name}_ref_rgb_anon.png'))
    return root


def make_cityscapes(root, n=2):
    for i in range(n):
        name = f'aachen_{i:06d}_000019'
        write_image(osp.join(root, 'leftImg8bit', 'train', 'aachen', f'{name}_leftImg8bit.png'))
        write_label(osp.join(root, 'gtFine', 'train', 'aachen',
                             f'{name}_gtFine_labelTrainIds.png'))
    return root


def build(kind, root, labels=True, **kwargs):
    prefix = dict(img_path='rgb_anon', seg_map_path='gt') if labels else dict(img_path='rgb_anon')
    return DATASETS.build(dict(type=kind, data_root=root, data_prefix=prefix, pipeline=[],
                               **kwargs))


def rel(ds, root, key='img_path'):
    return [osp.relpath(ds.get_data_info(i)[key], root) for i in range(len(ds))]


@pytest.fixture(scope='module')
def acdc_root(tmp_path_factory):
    return make_acdc(str(tmp_path_factory.mktemp('acdc')))


@pytest.fixture(scope='module')
def dz_root(tmp_path_factory):
    return make_dark_zurich(str(tmp_path_factory.mktemp('dark_zurich')))


# ------------------------------------------------------------------------------------------------
# ACDC
# ------------------------------------------------------------------------------------------------
def test_acdc_lists_the_chosen_conditions_with_their_labels(acdc_root):
    ds = build('ACDCDataset', acdc_root, split='val', conditions=('snow', 'fog'))
    imgs = rel(ds, acdc_root)
    assert imgs == [f'rgb_anon/{c}/val/GOPR{c}/{frame("GOPR" + c, i)}_rgb_anon.png'
                    for c in ('snow', 'fog') for i in range(2)]
    assert rel(ds, acdc_root, 'seg_map_path') == [
        f'gt/{c}/val/GOPR{c}/{frame("GOPR" + c, i)}_gt_labelTrainIds.png'
        for c in ('snow', 'fog') for i in range(2)]
    assert [ds.get_data_info(i)['condition'] for i in range(len(ds))] == ['snow'] * 2 + ['fog'] * 2
    # default: all four conditions; never a reference image
    every = build('ACDCDataset', acdc_root, split='train')
    assert len(every) == 8 and {p.split('/')[1] for p in rel(every, acdc_root)} == set(ACDC)
    assert not any('_ref' in p for p in rel(every, acdc_root))


def test_acdc_without_labels_and_test_split(acdc_root):
    target = build('ACDCDataset', acdc_root, labels=False, conditions='night')
    assert len(target) == 2 and 'seg_map_path' not in target.get_data_info(0)
    test = build('ACDCDataset', acdc_root, labels=False, split='test')
    assert len(test) == 8 and all('/test/' in p for p in rel(test, acdc_root))
    assert all('seg_map_path' not in test.get_data_info(i) for i in range(len(test)))
    with pytest.raises(FileNotFoundError, match=r'label folder .*gt/fog/test does not exist.*'
                       'no public labels'):
        build('ACDCDataset', acdc_root, split='test')


def test_acdc_labels_round_trip_as_train_ids(acdc_root):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    ds = DATASETS.build(dict(type='ACDCDataset', data_root=acdc_root, split='val',
                             conditions=('rain', ),
                             data_prefix=dict(img_path='rgb_anon', seg_map_path='gt'),
                             pipeline=pipeline))
    out = ds[0]
    assert out['img'].shape == (*SHAPE, 3)
    np.testing.assert_array_equal(out['gt_seg_map'], LABEL)  # trainIds, 255 kept
    assert out['img_path'].endswith('rgb_anon/rain/val/GOPRrain/GOPRrain_frame_000000_rgb_anon.png')


def test_acdc_flat_layout(tmp_path):
    root = make_acdc_flat(str(tmp_path))
    ds = build('ACDCDataset', root)
    assert rel(ds, root) == [f'rgb_anon/train/{frame("GOPR0475", i)}_rgb_anon.png'
                             for i in range(3)]  # not the *_rgb_ref_anon.png images
    assert rel(ds, root, 'seg_map_path')[0] == 'gt/train/GOPR0475_frame_000000_gt_labelTrainIds.png'
    assert ds.get_data_info(0)['condition'] is None
    with pytest.raises(ValueError, match=r"conditions \('fog',\) need the ACDC layout .*flat"):
        build('ACDCDataset', root, conditions=('fog', ))


def test_acdc_errors_name_the_fault(acdc_root, tmp_path):
    with pytest.raises(ValueError, match=r"unknown conditions \['haze'\]; valid conditions: "
                       r"\('fog', 'night', 'rain', 'snow'\)"):
        build('ACDCDataset', acdc_root, conditions=('fog', 'haze'))
    with pytest.raises(ValueError, match=r"split 'trainval' is not one of \('train', 'val', "
                       r"'test'\)"):
        build('ACDCDataset', acdc_root, split='trainval')
    root = make_acdc(str(tmp_path / 'partial'), splits=('train', ), conditions=('fog', 'rain'))
    with pytest.raises(FileNotFoundError, match=r'image folder .*rgb_anon/night/train does not '
                       r"exist \(split 'train', condition 'night'"):
        build('ACDCDataset', root)
    with pytest.raises(FileNotFoundError, match=r'image folder .*rgb_anon/fog/val does not exist'):
        build('ACDCDataset', root, split='val', conditions='fog')
    os.rename(osp.join(root, 'gt', 'rain'), osp.join(root, 'gt', 'rain_moved'))
    with pytest.raises(FileNotFoundError, match=r'label folder .*gt/rain/train does not exist'):
        build('ACDCDataset', root, conditions=('fog', 'rain'))
    with pytest.raises(FileNotFoundError, match=r'neither .*rgb_anon/fog/train \(ACDC layout '
                       r".*nor .*rgb_anon/train \(DAFormer's flat layout"):
        build('ACDCDataset', _empty_acdc(tmp_path), labels=False)
    with pytest.raises(FileNotFoundError, match='data_root .*missing does not exist'):
        build('ACDCDataset', str(tmp_path / 'missing'))


def _empty_acdc(tmp_path):
    """A data root whose rgb_anon holds images in neither layout."""
    root = str(tmp_path / 'other')
    write_image(osp.join(root, 'rgb_anon', 'misc', 'x_rgb_anon.png'))
    return root


# ------------------------------------------------------------------------------------------------
# Dark Zurich
# ------------------------------------------------------------------------------------------------
def test_dark_zurich_splits_and_conditions(dz_root):
    night = build('DarkZurichUDADataset', dz_root, labels=False)  # train, night by default
    assert rel(night, dz_root) == [
        f'rgb_anon/train/night/GOPRnight/{frame("GOPRtrainnight", i)}_rgb_anon.png'
        for i in range(2)]
    both = build('DarkZurichUDADataset', dz_root, labels=False, conditions=('twilight', 'night'))
    assert [p.split('/')[2] for p in rel(both, dz_root)] == ['twilight'] * 2 + ['night'] * 2
    val = build('DarkZurichUDADataset', dz_root, split='val')
    assert len(val) == 2 and not any('_ref' in p for p in rel(val, dz_root))
    assert rel(val, dz_root, 'seg_map_path') == [
        f'gt/val/night/GOPRnight/{frame("GOPRvalnight", i)}_gt_labelTrainIds.png'
        for i in range(2)]
    test = build('DarkZurichUDADataset', dz_root, labels=False, split='test')
    assert len(test) == 2 and 'seg_map_path' not in test.get_data_info(0)


def test_dark_zurich_labels_round_trip_as_train_ids(dz_root):
    ds = DATASETS.build(dict(type='DarkZurichUDADataset', data_root=dz_root, split='val',
                             data_prefix=dict(img_path='rgb_anon', seg_map_path='gt'),
                             pipeline=[dict(type='LoadAnnotations')]))
    np.testing.assert_array_equal(ds[1]['gt_seg_map'], LABEL)


def test_dark_zurich_errors_name_the_fault(dz_root):
    with pytest.raises(ValueError, match=r"unknown conditions \['dawn'\]; valid conditions: "
                       r"\('day', 'twilight', 'night'\)"):
        build('DarkZurichUDADataset', dz_root, conditions='dawn')
    with pytest.raises(FileNotFoundError, match=r'image folder .*rgb_anon/val/day does not '
                       r"exist \(split 'val', condition 'day'; expected layout rgb_anon/<split>/"):
        build('DarkZurichUDADataset', dz_root, split='val', conditions=('night', 'day'))
    with pytest.raises(FileNotFoundError, match=r'label folder .*gt/train/night does not exist'):
        build('DarkZurichUDADataset', dz_root)  # the train split has no labels
    with pytest.raises(FileNotFoundError, match=r'gt/test/night does not exist.*no public labels'):
        build('DarkZurichUDADataset', dz_root, split='test')


def test_mmseg_dark_zurich_dataset_is_left_alone():
    from mmseg.datasets import DarkZurichDataset
    assert DATASETS.get('DarkZurichDataset') is DarkZurichDataset


# ------------------------------------------------------------------------------------------------
# Configs
# ------------------------------------------------------------------------------------------------
CONFIG_DIR = osp.join(REPO, 'configs')
TARGETS = {'cs2acdc': 'ACDCDataset', 'cs2darkzurich': 'DarkZurichUDADataset'}
CONFIGS = sorted(osp.relpath(p, CONFIG_DIR) for t in TARGETS
                 for p in glob.glob(osp.join(CONFIG_DIR, '*', f'*_{t}*.py')))
DATA_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader', 'test_split_dataloader',
             'statistics_dataloader', 'custom_hooks', 'crop_size')


def data_groups():
    """The configs grouped by their data (loaders, dataset hooks): one building test per group,
    since the methods of one target share a dataset base (the rest is test_published_configs')."""
    groups = {}
    for path in CONFIGS:
        cfg = Config.fromfile(osp.join(CONFIG_DIR, path))
        key = 'stages' if 'stages' in cfg else repr([cfg.get(k) for k in DATA_KEYS])
        groups.setdefault(key, []).append(path)
    return [pytest.param(paths, id=paths[0]) for paths in groups.values()]


# (h, w) of a 64x128 stand-in after each base's pipelines: DAFormer's 512 crops of the target
# at 960x540 / HRDA's 1024 crops at 1920x1080
SHAPES = {512: dict(target=(480, 512), source=(512, 512), statistics=(512, 1024), val=(480, 960)),
          1024: dict(target=(960, 1024), source=(1024, 1024), statistics=(1024, 2048),
                     val=(960, 1920))}
STAND_INS = {'CityscapesDataset': 'cityscapes', 'ACDCDataset': 'acdc',
             'DarkZurichUDADataset': 'dark_zurich'}


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('data'))
    make_cityscapes(osp.join(root, 'cityscapes'))
    make_acdc(osp.join(root, 'acdc'), n=1)
    make_dark_zurich(osp.join(root, 'dark_zurich'), n=1)
    return root


def on_stand_ins(node, root):
    """The config with the data root of every dataset replaced by its stand-in."""
    if isinstance(node, dict):
        node = {k: on_stand_ins(v, root) for k, v in node.items()}
        if node.get('type') in STAND_INS and 'data_root' in node:
            node['data_root'] = osp.join(root, STAND_INS[node['type']])
        return node
    if isinstance(node, (list, tuple)):
        return type(node)(on_stand_ins(v, root) for v in node)
    return node


def test_every_target_has_its_configs():
    methods = ['clda', 'confeti', 'dacs', 'hrda', 'mic', 'rccr', 'sdca', 'source_only', 't2sda']
    for t in TARGETS:
        assert sorted({p.split('/')[0] for p in CONFIGS if f'_{t}' in p}) == methods, t
        assert f'confeti/pipeline_daformer-mitb5_{t}.py' in CONFIGS


@pytest.mark.parametrize('paths', data_groups())
def test_config_builds_its_datasets_on_stand_ins(paths, data_root):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, paths[0]))
    if 'stages' in cfg:  # CONFETI's pipelines: their stage configs are tested on their own
        for path in paths:
            stages = Config.fromfile(osp.join(CONFIG_DIR, path)).stages
            assert {osp.basename(s['config']) for s in stages} <= {osp.basename(p)
                                                                   for p in CONFIGS}
        return
    path = paths[0]
    target = next(TARGETS[t] for t in TARGETS if f'_{t}' in path)
    assert len({TARGETS[t] for p in paths for t in TARGETS if f'_{t}' in p}) == 1
    shapes = SHAPES[cfg.crop_size[0]]
    cfg = on_stand_ins(cfg.to_dict(), data_root)
    train = DATASETS.build(cfg['train_dataloader']['dataset'])
    sample = train[0]
    if cfg['train_dataloader']['dataset']['type'] == 'UDADataset':
        assert type(train.source).__name__ == 'CityscapesDataset'
        assert type(train.target).__name__ == target
        assert train.target.split == 'train'
        assert 'seg_map_path' not in train.target.get_data_info(0)  # unlabelled target
        assert all('_ref' not in train.target.get_data_info(i)['img_path']
                   for i in range(len(train.target)))
        assert sample['target']['inputs'].shape[-2:] == shapes['target']
        assert sample['source']['inputs'].shape[-2:] == shapes['source']
    else:  # source only
        assert type(train).__name__ == 'CityscapesDataset'
    hooks = [h['dataloader'] for h in cfg.get('custom_hooks') or [] if 'dataloader' in h]
    for loader in [cfg.get('statistics_dataloader')] + hooks:  # SDCA's pass over the source
        if loader:
            stats = DATASETS.build(loader['dataset'])
            assert type(stats).__name__ == 'CityscapesDataset'
            assert stats[0]['data_samples'].gt_sem_seg.data.shape[-2:] == shapes['statistics']
    if cfg.get('val_dataloader') is None:  # CUT (stage 0)
        assert path.startswith('confeti/cut_')
        return
    val = DATASETS.build(cfg['val_dataloader']['dataset'])
    assert type(val).__name__ == target and val.split == 'val'
    out = val[0]
    assert out['inputs'].shape[-2:] == shapes['val']
    assert out['data_samples'].gt_sem_seg.data.shape[-2:] == SHAPE  # full-resolution labels
    assert cfg['test_dataloader']['dataset'] == cfg['val_dataloader']['dataset']
    test = DATASETS.build(cfg['test_split_dataloader']['dataset'])
    assert type(test).__name__ == target and test.split == 'test'
    assert all('/test/' in test.get_data_info(i)['img_path'] for i in range(len(test)))
    assert 'gt_sem_seg' not in test[0]['data_samples']
    assert test[0]['data_samples'].img_path == test.get_data_info(0)['img_path']
