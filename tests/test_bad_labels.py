"""Bad labels and datasets caught when the data is loaded or training starts (issue 20, item 11):
colour labels, an all-ignore source set, crops larger than the image, stale class statistics and
missing val/test label folders."""
import json
import logging
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from conftest import REPO, write_pairs
from mmengine.logging import MMLogger
from PIL import Image
from test_bad_input import LOAD, camvid, plain_target, source_cfg

from mmseg_uda.datasets import UDADataset


@pytest.fixture
def warnings_logged(monkeypatch):
    """The messages of WARNING records of the current mmengine logger."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                records.append(record.getMessage())
    handler = Keep()
    logger = MMLogger.get_current_instance()  # (a Runner built earlier may have set it to ERROR)
    level = logger.level
    logger.setLevel(min(level, logging.WARNING) if level else logging.WARNING)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


# -- a. colour labels --------------------------------------------------------------------------
def test_rgb_label_is_rejected_naming_the_file(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)])
    cv2.imwrite(paths[0][1], np.full((8, 8, 3), (128, 64, 128), np.uint8))  # a Cityscapes colour
    with pytest.raises(ValueError, match=rf'label {paths[0][1]} of image {paths[0][0]}: the label '
                                         r'has shape \(8, 8, 3\) .*labels must be single-channel '
                                         r'class-id PNGs \(e.g. Cityscapes \*_labelTrainIds.png\)'
                                         '.*tools/dataset_converters/'):
        camvid(tmp_path)[0]


def test_rgb_label_in_a_plain_mmseg_dataset(tmp_path):
    """Without a class count (a plain mmseg dataset) the value check cannot catch it either."""
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)])
    cv2.imwrite(paths[0][1], np.full((8, 8, 3), 1, np.uint8))
    ds = plain_target(tmp_path)
    ds.update(pipeline=LOAD, data_prefix=dict(img_path='images', seg_map_path='labels'))
    from mmseg.registry import DATASETS
    with pytest.raises(ValueError, match=rf'label {paths[0][1]} .*shape \(8, 8, 3\)'):
        DATASETS.build(ds)[0]


def test_palette_label_read_by_opencv_gets_the_palette_hint(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)])
    label = Image.fromarray(np.ones((8, 8), np.uint8), 'P')
    label.putpalette([0, 0, 0, 128, 64, 128] * 128)
    label.save(paths[0][1])
    assert camvid(tmp_path)[0]['data_samples'].gt_sem_seg.data.unique().tolist() == [1]  # pillow
    pipeline = [LOAD[0], dict(type='LoadAnnotations', imdecode_backend='cv2')] + LOAD[2:]
    with pytest.raises(ValueError, match=r"shape \(8, 8, 3\).*palette PNG.*"
                                         r"imdecode_backend='pillow'"):
        camvid(tmp_path, pipeline=pipeline)[0]


@pytest.mark.parametrize('rcs', [dict(min_pixels=1), None])
def test_rgb_label_when_the_uda_dataset_is_built(tmp_path, rcs):
    """The source's labels are read at build, before any pipeline (which may lack
    ValidateSegLabel): by the class statistics (rare-class sampling) or the labelled-pixel check."""
    write_pairs(tmp_path / 'tgt', [np.zeros((8, 8), np.uint8)])
    paths = write_pairs(tmp_path / 'src', [np.zeros((8, 8), np.uint8)])
    cv2.imwrite(paths[0][1], np.full((8, 8, 3), 1, np.uint8))
    with pytest.raises(ValueError, match=rf'label {paths[0][1]}: the label has shape \(8, 8, 3\)'):
        UDADataset(source_cfg(tmp_path / 'src'), plain_target(tmp_path / 'tgt'),
                   rare_class_sampling=rcs)


# -- d. stale class statistics -------------------------------------------------------------------
def _rcs_sources(tmp_path):
    """Two source sets with the same file names and different labels, and a target set."""
    a = np.zeros((16, 16), np.uint8)
    b = np.zeros((16, 16), np.uint8)
    b[:, :8] = 1
    b[4:12, 10:14] = 2
    write_pairs(tmp_path / 'a', [a] * 3)
    write_pairs(tmp_path / 'b', [b] * 3)
    write_pairs(tmp_path / 'tgt', [a])
    return source_cfg(tmp_path / 'a'), source_cfg(tmp_path / 'b'), plain_target(tmp_path / 'tgt')


RCS = dict(min_pixels=1)


def test_class_statistics_of_another_dataset_are_recomputed(tmp_path, warnings_logged):
    src_a, src_b, tgt = _rcs_sources(tmp_path)
    assert UDADataset(src_a, tgt, rare_class_sampling=RCS).rcs.classes == [0]
    stats_b = tmp_path / 'b' / 'sample_class_stats.json'
    stats_b.write_text((tmp_path / 'a' / 'sample_class_stats.json').read_text())  # copied over
    ds = UDADataset(src_b, tgt, rare_class_sampling=RCS)
    assert ds.rcs.classes == [0, 1, 2]  # b's own counts, not a's
    assert any(re.match(rf'rare-class sampling: class statistics {stats_b} was taken from other '
                        r'label files.*recomputing them', m)
               for m in warnings_logged), warnings_logged
    assert json.loads(stats_b.read_text())['samples'][0]['counts'] == {'0': 96, '1': 128, '2': 32}
    warnings_logged.clear()
    UDADataset(src_b, tgt, rare_class_sampling=RCS)  # the rewritten file is used as is
    assert not [m for m in warnings_logged if 'class statistics' in m]


def test_class_statistics_lacking_an_image_are_recomputed(tmp_path, warnings_logged):
    _, src_b, tgt = _rcs_sources(tmp_path)
    UDADataset(src_b, tgt, rare_class_sampling=RCS)
    stats_file = tmp_path / 'b' / 'sample_class_stats.json'
    stats = json.loads(stats_file.read_text())
    stats['samples'] = stats['samples'][1:]
    stats_file.write_text(json.dumps(stats))
    assert UDADataset(src_b, tgt, rare_class_sampling=RCS).rcs.images_per_class[2] == [0, 1, 2]
    assert any(f'has no entry for {tmp_path}/b/labels/0000.png; recomputing' in m
               for m in warnings_logged), warnings_logged
    assert len(json.loads(stats_file.read_text())['samples']) == 3


@pytest.mark.parametrize('layout', ['version1', 'daformer'])
def test_class_statistics_without_a_fingerprint_are_used_with_a_warning(tmp_path, layout,
                                                                          warnings_logged):
    _, src_b, tgt = _rcs_sources(tmp_path)
    stats_file = tmp_path / 'b' / 'sample_class_stats.json'
    counts = {'0': 256}  # deliberately not the files' counts: the file is used as it is
    if layout == 'version1':
        data = dict(version=1, ignore_index=255,
                    samples=[dict(file=f'labels/{i:04d}.png', counts=counts) for i in range(3)])
    else:
        data = [dict(file=str(tmp_path / 'b' / 'labels' / f'{i:04d}.png'), **counts)
                for i in range(3)]
    stats_file.write_text(json.dumps(data))
    assert UDADataset(src_b, tgt, rare_class_sampling=RCS).rcs.classes == [0]
    assert any(f'class statistics {stats_file} carry no fingerprint' in m and 'delete the file'
               in m for m in warnings_logged), warnings_logged


def test_rcs_stats_tool_writes_the_fingerprinted_format(tmp_path, warnings_logged):
    import importlib.util
    _, src_b, tgt = _rcs_sources(tmp_path)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"default_scope = 'mmseg'\nsource = {src_b!r}\n")
    spec = importlib.util.spec_from_file_location(
        'rcs_stats', osp.join(REPO, 'tools', 'dataset_converters', 'rcs_stats.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(cfg), '--key', 'source', '--nproc', '1'])
    data = json.loads((tmp_path / 'b' / 'sample_class_stats.json').read_text())
    assert data['version'] == 2 and data['fingerprint']['count'] == 3
    assert UDADataset(src_b, tgt, rare_class_sampling=RCS).rcs.classes == [0, 1, 2]
    assert not [m for m in warnings_logged if 'class statistics' in m], warnings_logged



def test_converter_statistics_carry_the_fingerprint_of_their_outputs(tmp_path):
    """The GTA5 converter writes the same format: read back fresh, stale after a re-conversion
    that changes a label."""
    from test_converters import _gta_out, _make_gta

    from mmseg_uda.datasets.class_stats import read_sample_class_stats, stale_stats_reason
    from mmseg_uda.datasets.label_mapping import convert_gta5
    outputs = [_gta_out(p) for p in _make_gta(tmp_path)]
    stats_file = convert_gta5(str(tmp_path))['stats_file']
    stats, fingerprint = read_sample_class_stats(stats_file)
    assert fingerprint['count'] == 3
    assert stale_stats_reason(stats_file, stats, fingerprint, outputs) is None
    cv2.imwrite(outputs[1], np.full((6, 8), 255, np.uint8))  # converted again, another mapping
    assert 'was taken from other label files' in stale_stats_reason(stats_file, stats,
                                                                    fingerprint, outputs)

# -- b. an all-ignore source set ------------------------------------------------------------------
@pytest.mark.parametrize('n', [3, 40])
def test_all_ignore_source_set_warns_at_build(tmp_path, n, warnings_logged):
    write_pairs(tmp_path / 'src', [np.full((4, 4), 255, np.uint8)] * n)
    write_pairs(tmp_path / 'tgt', [np.zeros((4, 4), np.uint8)])
    UDADataset(source_cfg(tmp_path / 'src'), plain_target(tmp_path / 'tgt'))
    checked = 'its 3 label files' if n == 3 else '16 of its 40 label files (evenly spaced)'
    assert any(m.startswith(f'CamVidDataset (labels in {tmp_path}/src/labels): no pixel of '
                            f'{checked} is labelled (all are the ignore index 255') and
               'loss would be 0' in m for m in warnings_logged), warnings_logged


def test_source_set_with_labelled_pixels_does_not_warn(tmp_path, warnings_logged):
    labels = [np.full((4, 4), 255, np.uint8)] * 39 + [np.ones((4, 4), np.uint8)]
    write_pairs(tmp_path / 'src', labels)  # the last file is always among those checked
    write_pairs(tmp_path / 'tgt', [np.zeros((4, 4), np.uint8)])
    UDADataset(source_cfg(tmp_path / 'src'), plain_target(tmp_path / 'tgt'))
    assert not [m for m in warnings_logged if 'labelled' in m], warnings_logged


def test_all_ignore_source_set_with_rare_class_sampling(tmp_path):
    write_pairs(tmp_path / 'src', [np.full((4, 4), 255, np.uint8)] * 2)
    write_pairs(tmp_path / 'tgt', [np.zeros((4, 4), np.uint8)])
    with pytest.raises(ValueError, match=rf'no pixel of the source is labelled according to '
                                         rf'{tmp_path}/src/sample_class_stats.json'):
        UDADataset(source_cfg(tmp_path / 'src'), plain_target(tmp_path / 'tgt'),
                   rare_class_sampling=RCS)


# -- c. a crop larger than the image ------------------------------------------------------------
@pytest.mark.parametrize('paired', [True, False])
def test_image_smaller_than_the_crop_warns_once(tmp_path, paired, warnings_logged):
    from mmengine.dataset import pseudo_collate
    from mmseg.registry import MODELS
    paths = write_pairs(tmp_path, [np.zeros((12, 40), np.uint8), np.zeros((40, 40), np.uint8)])
    crop = dict(type='RandomCrop', crop_size=(32, 32))
    ds = camvid(tmp_path, pipeline=LOAD[:3] + [crop, LOAD[3]])
    pre = MODELS.build(dict(type='UDADataPreProcessor', mean=[0.] * 3, std=[1.] * 3,
                            size=(32, 32), seg_pad_val=255))
    pre(pseudo_collate([ds[0]]), training=False)  # (validation: not warned)
    assert not warnings_logged
    batch = pseudo_collate([ds[1], ds[0]])
    for _ in range(2):
        pre(dict(source=batch, target=batch) if paired else batch, training=True)
    small = [m for m in warnings_logged if 'smaller than the crop size' in m]
    where = ' of the source batch' if paired else ''
    assert len(small) == 1, warnings_logged
    assert small[0].startswith(f'image {paths[0][0]}{where} is 12x32 (H x W; (12, 40) as loaded) '
                               'after the pipeline, smaller than the crop size (32, 32)')
    warnings_logged.clear()
    pre(pseudo_collate([ds[1]]), training=True)
    assert not warnings_logged


# -- e. val / test / target label folders checked when training starts ---------------------------
def _runner(tmp_path, val, test=None, **kwargs):
    """A tiny Runner (test_bad_input's ToyModel) with val (and test) sets, checked by the hook."""
    import uuid

    from mmengine.runner import Runner
    from test_bad_input import ToyDataset, ToyModel
    loader = dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False))
    evaluator = dict(type='IoUMetric')
    extra = {}
    if test is not None:
        extra = dict(test_dataloader=dict(loader, dataset=test), test_cfg=dict(type='TestLoop'),
                     test_evaluator=evaluator)
    model = ToyModel()
    runner = Runner(
        model=model, work_dir=str(tmp_path / 'work'), experiment_name=uuid.uuid4().hex,
        train_dataloader=dict(dataset=ToyDataset(), sampler=dict(type='InfiniteSampler'),
                              batch_size=2, num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=1, val_interval=100, val_begin=100),
        val_dataloader=dict(loader, dataset=val), val_cfg=dict(type='ValLoop'),
        val_evaluator=evaluator, custom_hooks=[dict(type='DatasetCheckHook')],
        default_hooks=dict(checkpoint=None), default_scope='mmseg', log_level='WARNING',
        **extra, **kwargs)
    return runner, model


def _val_set(root, pipeline=LOAD, labels='labels'):
    """A Cityscapes-style val set as a plain mmseg dataset (which lists label paths unchecked)."""
    prefix = dict(img_path='images', seg_map_path=labels) if labels else dict(img_path='images')
    return dict(plain_target(root), data_prefix=prefix, pipeline=pipeline)


def test_missing_val_label_folder_fails_when_training_starts(tmp_path):
    write_pairs(tmp_path / 'val', [np.zeros((8, 8), np.uint8)])
    os.rename(tmp_path / 'val' / 'labels', tmp_path / 'val' / 'gtFine')
    runner, model = _runner(tmp_path, _val_set(tmp_path / 'val'))
    with pytest.raises(FileNotFoundError, match=rf'BaseSegDataset: label folder {tmp_path}/val/'
                                                r'labels does not exist \(val_dataloader.dataset.'
                                                r'data_prefix.seg_map_path, data_root='):
        runner.train()
    assert model.calls == 0  # before the first iteration


def test_val_set_without_seg_map_path_fails_when_training_starts(tmp_path):
    write_pairs(tmp_path / 'val', [np.zeros((8, 8), np.uint8)])
    runner, _ = _runner(tmp_path, _val_set(tmp_path / 'val', labels=None))
    with pytest.raises(ValueError, match=r'labels are required but val_dataloader.dataset.'
                                         r'data_prefix.seg_map_path is not set'):
        runner.train()


def test_missing_test_label_folder_fails_when_training_starts(tmp_path):
    write_pairs(tmp_path / 'val', [np.zeros((8, 8), np.uint8)])
    write_pairs(tmp_path / 'test', [np.zeros((8, 8), np.uint8)])
    runner, model = _runner(tmp_path, _val_set(tmp_path / 'val'),
                            _val_set(tmp_path / 'test', labels='nowhere'))
    with pytest.raises(FileNotFoundError, match=rf'label folder {tmp_path}/test/nowhere does not '
                                                r'exist \(test_dataloader.dataset.data_prefix.'
                                                r'seg_map_path'):
        runner.train()
    assert model.calls == 0


def test_unlabelled_test_set_and_good_val_set_train(tmp_path):
    """A test set whose pipeline loads no labels (format-only, for a benchmark server) needs
    none."""
    write_pairs(tmp_path / 'val', [np.zeros((8, 8), np.uint8)])
    write_pairs(tmp_path / 'test', [np.zeros((8, 8), np.uint8)])
    test = _val_set(tmp_path / 'test', pipeline=[LOAD[0], LOAD[-1]], labels='nowhere')
    runner, model = _runner(tmp_path, _val_set(tmp_path / 'val'), test)
    runner.train()
    assert model.calls == 1


def test_target_set_that_loads_labels_needs_its_label_folder(tmp_path):
    write_pairs(tmp_path / 'src', [np.ones((8, 8), np.uint8)])
    write_pairs(tmp_path / 'tgt', [np.zeros((8, 8), np.uint8)])
    target = _val_set(tmp_path / 'tgt', labels='gtFine/train')
    with pytest.raises(FileNotFoundError, match=rf'label folder {tmp_path}/tgt/gtFine/train does '
                                                r'not exist'):
        UDADataset(source_cfg(tmp_path / 'src'), target)
    UDADataset(source_cfg(tmp_path / 'src'), dict(target, pipeline=[LOAD[0], LOAD[-1]]))
