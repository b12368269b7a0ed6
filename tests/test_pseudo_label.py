"""Offline pseudo-labels with class-wise thresholds (engine/pseudo_labels.py,
tools/pseudo_label.py)."""
import json
import os.path as osp
import sys
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import save_checkpoint
from mmengine.structures import PixelData
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample
from test_method_configs import small_config
from torch import nn

from mmseg_uda.datasets.toy_shift import TOY_SHIFT_CLASSES
from mmseg_uda.engine import (class_confidence_thresholds, confidence_histograms,
                              thresholds_from_histograms, write_pseudo_labels)

sys.path.insert(0, osp.join(REPO, 'tools'))
import pseudo_label  # noqa: E402

BINS = 100_000


class FakeSegmentor(nn.Module):
    """``test_step(batch)``: the batch is a list of ``(logits CxHxW, img_path)``, returned as
    SegDataSamples with those ``seg_logits``, as a segmentor's prediction at label resolution."""

    def test_step(self, batch):
        assert not self.training and not torch.is_grad_enabled()
        samples = []
        for logits, path in batch:
            sample = SegDataSample(metainfo=dict(img_path=path, ori_shape=logits.shape[1:]))
            sample.seg_logits = PixelData(data=logits)
            samples.append(sample)
        return samples


class Loader(list):
    dataset = None


def random_batches(seed=0, num_classes=5, never=4):
    """3 batches of 2 images (20x30 logits); class ``never`` is never the argmax."""
    g = torch.Generator().manual_seed(seed)
    batches = []
    for b in range(3):
        logits = torch.randn(2, num_classes, 20, 30, generator=g) * 3
        logits[:, never] = -1e4
        batches.append([(x, f'img{b}_{i}.png') for i, x in enumerate(logits)])
    return Loader(batches)


def sorted_quantile(batches, num_classes, quantile=0.5):
    """Brute force, as SDCA's code: sort the confidences of each class, take x[round(q * len)]."""
    probs = torch.cat([x.softmax(0).flatten(1) for batch in batches for x, _ in batch], 1)
    conf, pred = probs.max(0)
    out = []
    for k in range(num_classes):
        x = np.sort(conf[pred == k].double().numpy())
        out.append(x[min(int(np.round(len(x) * quantile)), len(x) - 1)] if len(x) else 0.)
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize('quantile', [0.5, 0.3])
def test_thresholds_are_the_sorted_quantile_within_one_bin(quantile):
    loader = random_batches()
    model = FakeSegmentor().train()
    thr = class_confidence_thresholds(model, loader, 5, quantile=quantile, cap=None)
    exact = sorted_quantile(loader, 5, quantile)
    assert thr.dtype == torch.float64 and thr.shape == (5, )
    # the lower edge of the bin holding the order statistic
    assert torch.all(thr <= exact) and torch.all(exact - thr < 1 / BINS)
    assert thr[4] == 0 and exact[:4].min() > 0.2  # never predicted -> 0
    assert model.training  # mode restored


def test_cap_and_coarse_bins():
    loader = random_batches(seed=1)
    hist = confidence_histograms(FakeSegmentor(), loader, 5, bins=10)
    assert hist.dtype == torch.int64 and hist.shape == (5, 10)
    assert int(hist.sum()) == 6 * 20 * 30 and int(hist[4].sum()) == 0
    exact = sorted_quantile(loader, 5)
    thr = thresholds_from_histograms(hist, cap=None)
    torch.testing.assert_close(thr, torch.floor(exact * 10) / 10)  # exact to one bin width
    capped = thresholds_from_histograms(hist, cap=0.3)
    torch.testing.assert_close(capped, thr.clamp(max=0.3))
    assert capped[4] == 0


def test_hand_checked_case(tmp_path):
    # one 2x4 image, class probabilities per pixel; class 2 never wins
    probs = torch.tensor([[[.6, .4, 0.], [.7, .3, 0.], [.8, .2, 0.], [.95, .05, 0.]],
                          [[.45, .55, 0.], [.01, .99, 0.], [.5, .25, .25], [.25, .5, .25]]])
    probs = probs.permute(2, 0, 1)  # 3x2x4
    image = str(tmp_path / 'images' / 'a' / 'x_img.png')
    loader = Loader([[(probs.log(), image)]])
    loader.dataset = SimpleNamespace(
        data_prefix=dict(img_path=str(tmp_path / 'images')), img_suffix='_img.png',
        seg_map_suffix='_label.png', metainfo=dict(classes=('road', 'car', 'bike')))
    thr = class_confidence_thresholds(FakeSegmentor(), loader, 3)
    # class 0: 0.5 0.6 0.7 0.8 0.95 -> index round(2.5) = 2 (half to even, as numpy) -> 0.7
    # class 1: 0.5 0.55 0.99 -> index round(1.5) = 2 -> 0.99, capped at 0.9; class 2: none -> 0
    torch.testing.assert_close(thr, torch.tensor([.7, .9, 0.], dtype=torch.float64), atol=1e-5,
                               rtol=0)
    stats = write_pseudo_labels(FakeSegmentor(), loader, thr, str(tmp_path / 'out'))
    label = cv2.imread(str(tmp_path / 'out' / 'a' / 'x_label.png'), cv2.IMREAD_UNCHANGED)
    assert label.dtype == np.uint8 and label.tolist() == [[255, 0, 0, 0], [255, 1, 255, 255]]
    assert stats == dict(images=1, labelled=4, pixels=8, labelled_share=0.5)
    summary = json.load(open(tmp_path / 'out' / 'thresholds.json'))
    assert list(summary['thresholds']) == ['road', 'car', 'bike']
    assert summary['thresholds']['car'] == pytest.approx(0.9) and summary['images'] == 1


def test_labels_follow_the_image_paths_and_sizes(tmp_path):
    # Cityscapes naming: train/<city>/<name>_leftImg8bit.png -> out/<city>/<name>_gtFine_...png
    g = torch.Generator().manual_seed(0)
    root = str(tmp_path / 'leftImg8bit' / 'train')
    names = [('aachen', 'aachen_000000_000019', (6, 10)), ('bonn', 'bonn_000001_000019', (4, 7))]
    loader = Loader([[(torch.randn(3, *size, generator=g) * 2,
                       osp.join(root, city, f'{name}_leftImg8bit.png'))]
                     for city, name, size in names])
    loader.dataset = SimpleNamespace(data_prefix=dict(img_path=root),
                                     img_suffix='_leftImg8bit.png',
                                     seg_map_suffix='_gtFine_labelTrainIds.png', metainfo={})
    thr = torch.tensor([0.6, 0.7, 0.0])
    out = str(tmp_path / 'labels')
    stats = write_pseudo_labels(FakeSegmentor(), loader, thr, out, ignore_index=250)
    labelled = 0
    for (city, name, size), batch in zip(names, loader):
        label = cv2.imread(osp.join(out, city, f'{name}_gtFine_labelTrainIds.png'),
                           cv2.IMREAD_UNCHANGED)
        assert label.shape == size
        conf, pred = batch[0][0].softmax(0).max(0)
        expected = torch.where(conf >= thr[pred], pred, 250)
        assert torch.equal(torch.from_numpy(label).long(), expected)
        labelled += int((expected != 250).sum())
    assert stats['images'] == 2 and stats['labelled'] == labelled and stats['pixels'] == 60 + 28
    assert list(json.load(open(osp.join(out, 'thresholds.json')))['thresholds']) == ['0', '1', '2']


def test_errors(tmp_path):
    loader = random_batches()
    with pytest.raises(ValueError, match='predicts 5 classes, expected num_classes=4'):
        class_confidence_thresholds(FakeSegmentor(), loader, 4)
    with pytest.raises(TypeError, match='needs an mmseg BaseSegDataset'):
        write_pseudo_labels(FakeSegmentor(), loader, [0.5] * 5, str(tmp_path))
    loader.dataset = SimpleNamespace(data_prefix=dict(img_path=str(tmp_path / 'elsewhere')),
                                     img_suffix='.png', seg_map_suffix='.png', metainfo={})
    with pytest.raises(ValueError, match=r"not a `\*.png` file under the dataset's data_prefix"):
        write_pseudo_labels(FakeSegmentor(), loader, [0.5] * 5, str(tmp_path))
    with pytest.raises(ValueError, match='num_classes <= ignore_index <= 255'):
        write_pseudo_labels(FakeSegmentor(), loader, [0.5] * 5, str(tmp_path), ignore_index=3)


def test_histograms_are_summed_over_ranks(monkeypatch):
    # two ranks with a shard each; the stand-in all_reduce sums the shards' histograms (a forked
    # gloo group can deadlock in OpenMP once the parent has used it, a spawned one costs seconds)
    batches = random_batches()
    shards = [Loader(batches[0::2]), Loader(batches[1::2])]
    single = class_confidence_thresholds(FakeSegmentor(), batches, 5, cap=None)
    local = [confidence_histograms(FakeSegmentor(), shard, 5).flatten() for shard in shards]
    calls = []

    def all_reduce(data, op):
        assert op == 'sum' and torch.equal(data, local[0]) and not calls
        calls.append(op)
        data.copy_(local[0] + local[1])

    monkeypatch.setattr('mmseg_uda.engine.pseudo_labels.all_reduce', all_reduce)
    assert torch.equal(class_confidence_thresholds(FakeSegmentor(), shards[0], 5, cap=None),
                       single)
    assert calls == ['sum']


# -- the tool, end to end on the toy shift ---------------------------------------------------------
def tool_config(toy_root, tmp_path, name='demo/source_only_toy_shift.py'):
    """The demo config at test size plus a ``pseudo_label_dataloader`` over the toy target train
    images, resized to half size (the labels must come back at the original 64x128)."""
    cfg = small_config(name, toy_root, str(tmp_path / 'unused'))
    cfg.pseudo_label_dataloader = dict(
        batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='ToyShiftDataset', data_root=toy_root, domain='target', split='train',
                     with_labels=False,
                     pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='Resize', scale=(64, 32), keep_ratio=True),
                               dict(type='PackSegInputs')]))
    return cfg


def test_tool_end_to_end(toy_root, tmp_path):
    cfg = tool_config(toy_root, tmp_path)
    config = str(tmp_path / 'config.py')
    cfg.dump(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'model.pth')
    save_checkpoint(dict(state_dict=model.state_dict()), ckpt)
    out = tmp_path / 'out'
    pseudo_label.main([config, ckpt, '--work-dir', str(out), '--cap', 'none'])
    assert (out / 'done').is_file() and not (out / 'labels' / 'thresholds.json').exists()
    summary = json.load(open(out / 'thresholds.json'))
    assert list(summary['thresholds']) == list(TOY_SHIFT_CLASSES)
    assert summary['images'] == 8 and summary['cap'] is None and 0.3 < summary['labelled_share']
    # read back through an mmseg dataset whose labels are the pseudo-labels
    dataset = DATASETS.build(dict(
        type='BaseSegDataset', data_root=toy_root, metainfo=dict(classes=TOY_SHIFT_CLASSES),
        data_prefix=dict(img_path='target/train/images', seg_map_path=str(out / 'labels')),
        img_suffix='.png', seg_map_suffix='.png',
        pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                  dict(type='PackSegInputs')]))
    assert len(dataset) == 8
    thr = torch.tensor(list(summary['thresholds'].values()), dtype=torch.float64)
    images = DATASETS.build(cfg.pseudo_label_dataloader.dataset)
    assert images[0]['data_samples'].img_path == dataset[0]['data_samples'].img_path
    model.eval()
    with torch.no_grad():  # the tool's prediction of image 0
        pred = model.test_step(pseudo_collate([images[0]]))[0]
    label = dataset[0]['data_samples'].gt_sem_seg.data[0].long()
    assert label.shape == (64, 128) and pred.seg_logits.data.shape[1:] == (64, 128)
    conf, arg = pred.seg_logits.data.softmax(0).max(0)
    assert torch.equal(label, torch.where(conf.double() >= thr[arg], arg, 255))


def test_tool_loads_plain_or_uda_checkpoints(toy_root, tmp_path):
    cfg = tool_config(toy_root, tmp_path, 'demo/dacs_toy_shift.py')
    uda = MODELS.build(cfg.model)
    save_checkpoint(dict(state_dict=uda.state_dict()), str(tmp_path / 'uda.pth'))
    save_checkpoint(dict(state_dict=uda.student.state_dict()), str(tmp_path / 'plain.pth'))
    assert type(pseudo_label.build_model(cfg, str(tmp_path / 'uda.pth'))) is type(uda)
    plain = pseudo_label.build_model(cfg, str(tmp_path / 'plain.pth'))
    assert type(plain) is type(uda.student)


def test_tool_needs_pseudo_label_dataloader(tmp_path):
    demo = osp.join(REPO, 'configs', 'demo', 'source_only_toy_shift.py')
    with pytest.raises(KeyError, match='source_only_toy_shift.py: pseudo-labelling needs '
                                       '`pseudo_label_dataloader`'):
        pseudo_label.main([demo, 'missing.pth', '--work-dir', str(tmp_path / 'out')])
    assert not (tmp_path / 'out').exists()


def test_sdca_pseudo_label_base_config():
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'sdca', '_base_',
                                   'cityscapes_pseudo_label.py'))
    loader = cfg.pseudo_label_dataloader
    assert loader.batch_size == 1 and loader.sampler.round_up is False
    assert loader.dataset.type == 'CityscapesDataset'
    assert 'seg_map_path' not in loader.dataset.data_prefix
    assert [t['type'] for t in loader.dataset.pipeline] == ['LoadImageFromFile', 'Resize',
                                                            'PackSegInputs']
