"""UDADataset pairing, seeded target draws, rare-class sampling and the paired data preprocessor."""
import json

import numpy as np
import pytest
import torch
from conftest import write_pairs
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from scipy.stats import chisquare
from torch.utils.data import DataLoader

from mmseg_uda.datasets import UDADataset, rcs_class_probs

SRC_PIPE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='ValidateSegLabel'), dict(type='RandomCrop', crop_size=(16, 16)),
            dict(type='PackSegInputs')]
TGT_PIPE = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]


def source_labels():
    """20 images 32x32: class 0 everywhere, class 1 in a big block of 10 images, class 2 (rare)
    in a small 8x8 patch of 3 images, class 3 in a 16x16 block of 5 images."""
    labels = []
    for i in range(20):
        lab = np.zeros((32, 32), np.uint8)
        if i < 10:
            lab[:, :16] = 1
        if i in (3, 11, 17):
            lab[20:28, 20:28] = 2
        if i >= 15:
            lab[:16, 16:] = 3
        lab[0, 0] = 255
        labels.append(lab)
    return labels


def make_cfgs(tmp_path, n_target=5):
    write_pairs(tmp_path / 'src', source_labels())
    write_pairs(tmp_path / 'tgt', [np.zeros((32, 32), np.uint8)] * n_target, seed=1)
    src = dict(type='CamVidDataset', data_root=str(tmp_path / 'src'),
               data_prefix=dict(img_path='images', seg_map_path='labels'), pipeline=SRC_PIPE)
    tgt = dict(type='CamVidDataset', data_root=str(tmp_path / 'tgt'),
               data_prefix=dict(img_path='images'), pipeline=TGT_PIPE)
    return src, tgt


def test_pairs_and_length(tmp_path):
    src, tgt = make_cfgs(tmp_path)
    ds = DATASETS.build(dict(type='UDADataset', source=src, target=tgt))
    assert len(ds) == 20 and ds.metainfo['classes'] == ds.source.metainfo['classes']
    item = ds[3]
    assert set(item) == {'source', 'target'}
    assert item['source']['data_samples'].img_path.endswith('0003.png')
    assert 'gt_sem_seg' in item['source']['data_samples']
    assert 'gt_sem_seg' not in item['target']['data_samples']
    assert len(UDADataset(src, tgt, length=7)) == 7


def target_draws(ds, seed, workers):
    loader = DataLoader(ds, batch_size=2, num_workers=workers, collate_fn=pseudo_collate,
                        generator=torch.Generator().manual_seed(seed))
    return [s.img_path for batch in loader for s in batch['target']['data_samples']]


def test_target_draws_are_seeded(tmp_path):
    src, tgt = make_cfgs(tmp_path, n_target=50)
    ds = UDADataset(src, tgt)
    first = target_draws(ds, 0, workers=2)
    assert first == target_draws(ds, 0, workers=2)
    assert first != target_draws(ds, 1, workers=2)
    assert len(set(first)) > 5  # draws vary, not a fixed pairing


def test_bad_inputs(tmp_path):
    src, tgt = make_cfgs(tmp_path)
    (tmp_path / 'empty' / 'images').mkdir(parents=True)
    empty = dict(tgt, data_root=str(tmp_path / 'empty'))
    with pytest.raises(ValueError, match='no images found in .*empty'):
        UDADataset(src, empty)
    with pytest.raises(FileNotFoundError, match='nowhere'):
        UDADataset(src, dict(tgt, data_root=str(tmp_path / 'nowhere')))
    with pytest.raises(ValueError, match='labels are required'):
        UDADataset(dict(src, data_prefix=dict(img_path='images')), tgt)
    with pytest.raises(ValueError, match='different classes'):
        UDADataset(src, dict(tgt, type='GTA5Dataset', img_suffix='.png'))
    with pytest.raises(KeyError, match='temperature'):
        UDADataset(src, tgt, rare_class_sampling=dict(temperature=0.1))


def test_rcs_probabilities_match_daformer_equation():
    classes, probs = rcs_class_probs({0: 700, 1: 200, 2: 100}, temperature=0.1)
    f = np.array([0.7, 0.2, 0.1])
    expected = np.exp((1 - f) / 0.1) / np.exp((1 - f) / 0.1).sum()
    assert classes == [0, 1, 2]
    np.testing.assert_allclose(probs.numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match='class_temp'):
        rcs_class_probs({0: 1}, 0)


def test_rcs_statistics_are_computed_cached_and_checked(tmp_path):
    src, tgt = make_cfgs(tmp_path)
    rcs = dict(class_temp=0.1, min_pixels=10)
    ds = UDADataset(src, tgt, rare_class_sampling=rcs)
    stats_file = tmp_path / 'src' / 'sample_class_stats.json'
    entries = json.loads(stats_file.read_text())['samples']
    assert len(entries) == 20
    assert entries[3] == {'file': 'labels/0003.png', 'counts': {'0': 448, '1': 511, '2': 64}}
    assert ds.rcs.images_per_class[2] == [3, 11, 17]
    assert ds.rcs.images_per_class[3] == [15, 16, 17, 18, 19]
    # a stale file (an image it does not know) is recomputed, not silently used (the warning:
    # test_bad_labels.py)
    stats = json.loads(stats_file.read_text())
    stats['samples'] = stats['samples'][1:]
    stats_file.write_text(json.dumps(stats))
    ds = UDADataset(src, tgt, rare_class_sampling=rcs)
    assert ds.rcs.images_per_class[2] == [3, 11, 17]
    assert len(json.loads(stats_file.read_text())['samples']) == 20


def test_rcs_statistics_with_relative_data_root(tmp_path, monkeypatch):
    src, tgt = make_cfgs(tmp_path)
    monkeypatch.chdir(tmp_path)
    ds = UDADataset(dict(src, data_root='src'), tgt, rare_class_sampling=dict(min_pixels=10))
    entries = json.loads((tmp_path / 'src' / 'sample_class_stats.json').read_text())['samples']
    assert entries[0]['file'] == 'labels/0000.png'
    # read back (from another folder too) and matched to the dataset's relative paths
    monkeypatch.chdir(tmp_path / 'src')
    ds2 = UDADataset(dict(src, data_root='.'), tgt, rare_class_sampling=dict(min_pixels=10))
    assert ds2.rcs.images_per_class == ds.rcs.images_per_class


def test_rcs_samples_rare_classes_at_the_expected_rate(tmp_path):
    src, tgt = make_cfgs(tmp_path)
    rcs = dict(class_temp=0.1, min_pixels=10, min_crop_ratio=0.5)
    ds = UDADataset(src, tgt, rare_class_sampling=rcs)
    totals = np.zeros(4)
    for lab in source_labels():
        totals += np.bincount(lab[lab != 255], minlength=4)
    f = totals / totals.sum()
    expected = np.exp((1 - f) / 0.1) / np.exp((1 - f) / 0.1).sum()
    torch.manual_seed(0)
    n = 600
    drawn = np.zeros(4)
    crops_with_class = 0
    for i in range(n):
        sample = ds[i % len(ds)]['source']['data_samples']
        c = sample.rcs_class
        drawn[c] += 1
        crops_with_class += int((sample.gt_sem_seg.data == c).sum() > 5)
    # chosen classes follow p(c) of DAFormer's Eq. (6) (fixed seed: deterministic, not flaky)
    assert chisquare(drawn, expected * n).pvalue > 0.01
    # the rare class (1.3% of the pixels) is drawn far more often than its pixel share
    assert drawn[2] / n > 0.25 > 10 * f[2]
    # re-cropping puts the drawn class in (almost) every crop
    assert crops_with_class / n > 0.97


def test_paired_data_preprocessor(tmp_path):
    src, tgt = make_cfgs(tmp_path)
    ds = UDADataset(src, dict(tgt, pipeline=[dict(type='LoadImageFromFile'),
                                             dict(type='RandomCrop', crop_size=(16, 16)),
                                             dict(type='PackSegInputs')]))
    pre = MODELS.build(dict(type='UDADataPreProcessor', mean=[1., 2., 3.], std=[2., 2., 2.],
                            bgr_to_rgb=True, size=(16, 16)))
    batch = pseudo_collate([ds[0], ds[1]])
    out = pre(batch, training=True)
    assert set(out['inputs']) == {'source', 'target'}
    assert out['inputs']['source'].shape == (2, 3, 16, 16)
    assert out['inputs']['target'].shape == (2, 3, 16, 16)
    raw = batch['source']['inputs'][0].float()[[2, 1, 0]]
    expected = (raw - torch.tensor([1., 2., 3.]).view(3, 1, 1)) / 2
    torch.testing.assert_close(out['inputs']['source'][0], expected)
    assert len(out['data_samples']['target']) == 2
    # a plain (validation) batch goes through SegDataPreProcessor unchanged
    plain = pre(pseudo_collate([ds.source[0]]), training=False)
    assert plain['inputs'].shape == (1, 3, 16, 16)
