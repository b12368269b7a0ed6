"""Test-server submissions (tools/test.py --format-only): each server's zip layout, file names,
PNG types, sizes and values, the end-to-end tool on a test set without labels (1 and 2 processes)
and the errors."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys
import zipfile

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO, free_port
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.datasets import BaseSegDataset, CityscapesDataset
from mmseg.structures import SegDataSample

from mmseg_uda.datasets.label_mapping import CITYSCAPES_ID_TO_TRAINID, make_lut
from mmseg_uda.evaluation.submission import (SubmissionWriter, check_output_dir,
                                             drop_label_loading, server_of_dataset)

CLASSES = CityscapesDataset.METAINFO['classes']
LABEL_ID_TO_TRAIN_ID = make_lut(CITYSCAPES_ID_TO_TRAINID)
DZ_FOLDERS = ('labelTrainIds', 'confidence', 'labelTrainIds_invalid')
ACDC_IMAGES = ['fog/test/GOPR0475/GOPR0475_frame_000041_rgb_anon.png',
               'night/test/GP010594/GP010594_frame_000123_rgb_anon.png']
CITY_IMAGES = ['berlin/berlin_000000_000019_leftImg8bit.png',
               'bonn/bonn_000001_000042_leftImg8bit.png']
SIZES = [(21, 37), (30, 16)]


def load_tool(name='test.py'):
    """A script of tools/ as a module (its ``main`` callable in-process)."""
    path = osp.join(REPO, 'tools', name)
    spec = importlib.util.spec_from_file_location(f'_tool_{name[:-3]}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_samples(paths, sizes, num_classes=len(CLASSES), seed=0):
    """Data samples as the evaluator gets them: logits, their argmax, image path and size."""
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for path, (h, w) in zip(paths, sizes):
        logits = torch.randn(num_classes, h, w, generator=gen) * 3
        sample = SegDataSample(metainfo=dict(img_path=path, ori_shape=(h, w)))
        sample.seg_logits = PixelData(data=logits)
        sample.pred_sem_seg = PixelData(data=logits.argmax(0, keepdim=True))
        samples.append(sample.to_dict())
    return samples


def write(out, server, paths, label_format=None, sizes=SIZES):
    writer = SubmissionWriter(str(out), server, label_format)
    writer.dataset_meta = dict(classes=CLASSES)
    samples = make_samples(paths, sizes)
    writer.process({}, samples[:1])  # two batches
    writer.process({}, samples[1:])
    assert writer.evaluate(len(samples)) == {}
    return writer, samples


def read_zip(path):
    with zipfile.ZipFile(path) as zf:
        return {name: cv2.imdecode(np.frombuffer(zf.read(name), np.uint8), cv2.IMREAD_UNCHANGED)
                for name in zf.namelist()}


def pred_of(sample):
    return sample['pred_sem_seg']['data'][0].numpy()


def test_cityscapes_writes_labelids_flat(tmp_path):
    writer, samples = write(tmp_path, 'cityscapes', [f'/cs/leftImg8bit/test/{p}'
                                                     for p in CITY_IMAGES])
    assert writer.zip_path == str(tmp_path / 'cityscapes.zip')
    files = read_zip(writer.zip_path)
    assert sorted(files) == ['berlin_000000_000019_leftImg8bit.png',
                             'bonn_000001_000042_leftImg8bit.png']
    for (name, png), sample, size in zip(sorted(files.items()), samples, SIZES):
        assert png.dtype == np.uint8 and png.shape == size
        assert png.min() >= 7  # labelIds (road = 7), not trainIds
        np.testing.assert_array_equal(LABEL_ID_TO_TRAIN_ID[png], pred_of(sample))  # round trip


@pytest.mark.parametrize('label_format', [None, 'labelIds'])
def test_acdc_writes_trainids_named_like_the_images(tmp_path, label_format):
    writer, samples = write(tmp_path, 'acdc', [f'/acdc/rgb_anon/{p}' for p in ACDC_IMAGES],
                            label_format)
    name = 'acdc' if label_format is None else 'acdc_labelIds'
    assert writer.zip_path == str(tmp_path / f'{name}.zip')
    files = read_zip(writer.zip_path)
    assert sorted(files) == [osp.basename(p) for p in ACDC_IMAGES]  # flat
    for png, sample, size in zip((files[osp.basename(p)] for p in ACDC_IMAGES), samples, SIZES):
        assert png.dtype == np.uint8 and png.shape == size
        values = png if label_format is None else LABEL_ID_TO_TRAIN_ID[png]
        np.testing.assert_array_equal(values, pred_of(sample))
    assert sorted(os.listdir(tmp_path)) == [name, f'{name}.zip']


def test_dark_zurich_writes_three_folders(tmp_path):
    writer, samples = write(tmp_path, 'dark_zurich',
                            [f'/dz/rgb_anon/test/night/{p.split("/")[2]}/{osp.basename(p)}'
                             for p in ACDC_IMAGES])
    files = read_zip(writer.zip_path)
    names = [osp.basename(p) for p in ACDC_IMAGES]
    assert sorted(files) == sorted(f'{d}/{n}' for d in DZ_FOLDERS for n in names)
    for name, sample, size in zip(names, samples, SIZES):
        labels, conf, invalid = (files[f'{d}/{name}'] for d in DZ_FOLDERS)
        assert labels.dtype == invalid.dtype == np.uint8 and conf.dtype == np.uint16
        assert labels.shape == conf.shape == invalid.shape == size
        np.testing.assert_array_equal(labels, pred_of(sample))
        np.testing.assert_array_equal(invalid, labels)  # no pixel predicted invalid
        prob = sample['seg_logits']['data'].double().softmax(0).max(0).values.numpy()
        np.testing.assert_array_equal(conf, np.round(prob * 65535))
        assert conf.min() < 40000 < conf.max()  # spread over the range, not a scaled uint8


def test_dark_zurich_label_ids_folders_are_named_so(tmp_path):
    writer, _ = write(tmp_path, 'dark_zurich', [f'/dz/{osp.basename(p)}' for p in ACDC_IMAGES],
                      'labelIds')
    assert {m.split('/')[0] for m in read_zip(writer.zip_path)} == \
        {'labelIds', 'confidence', 'labelIds_invalid'}


class _Listed:
    """The part of a dataset the writer checks before inference."""

    def __init__(self, paths, classes=CLASSES):
        self.paths, self.metainfo = paths, dict(classes=classes)

    def __len__(self):
        return len(self.paths)

    def get_data_info(self, idx):
        return dict(img_path=self.paths[idx])


def test_unknown_names_duplicates_and_classes_are_refused(tmp_path):
    for server in ('cityscapes', 'acdc', 'dark_zurich'):
        writer = SubmissionWriter(str(tmp_path), server)
        with pytest.raises(ValueError, match=r'/data/0001.png: the .* server matches predictions '
                           'by file name, .*--server'):
            writer.check_dataset(_Listed(['/data/0001.png']))
    acdc = SubmissionWriter(str(tmp_path), 'acdc')
    assert acdc.output_name(ACDC_IMAGES[0]) == 'GOPR0475_frame_000041_rgb_anon.png'
    with pytest.raises(ValueError, match='is not one of its test set'):  # Cityscapes to ACDC
        acdc.output_name(CITY_IMAGES[0])
    same = ['fog/test/GOPR0475/GOPR0475_frame_000041_rgb_anon.png',
            'rain/test/GOPR0475/GOPR0475_frame_000041_rgb_anon.png']
    with pytest.raises(ValueError, match=f'images {same[0]} and {same[1]} both give'):
        acdc.check_dataset(_Listed(same))
    with pytest.raises(ValueError, match='the test set is empty'):
        acdc.check_dataset(_Listed([]))
    with pytest.raises(ValueError, match=r"classes \['cat'\] of the network are not Cityscapes"):
        SubmissionWriter(str(tmp_path), 'acdc', 'labelIds').check_dataset(
            _Listed(ACDC_IMAGES, classes=('road', 'cat')))
    with pytest.raises(ValueError, match="server 'kitti' is not one of"):
        SubmissionWriter(str(tmp_path), 'kitti')


def test_predictions_that_are_not_the_written_ones_are_refused(tmp_path):
    writer = SubmissionWriter(str(tmp_path), 'dark_zurich')
    writer.dataset_meta = dict(classes=CLASSES)
    sample = make_samples([ACDC_IMAGES[0]], [SIZES[0]])[0]
    small = dict(sample, ori_shape=(42, 74))  # not resized back to the image
    with pytest.raises(ValueError, match=r'prediction is \(21, 37\) but the image \(42, 74\)'):
        writer.process({}, [small])
    tta = dict(sample, pred_sem_seg=dict(data=torch.zeros(1, *SIZES[0], dtype=torch.long)))
    with pytest.raises(ValueError, match='argmax of seg_logits is not pred_sem_seg'):
        writer.process({}, [tta])


def test_out_dir_and_flags(tmp_path, capsys):
    check_output_dir(str(tmp_path / 'new'))
    check_output_dir(str(tmp_path))  # empty
    (tmp_path / 'old.png').write_bytes(b'')
    with pytest.raises(FileExistsError, match=f'--out {tmp_path} is not empty'):
        check_output_dir(str(tmp_path))
    check_output_dir(str(tmp_path), overwrite=True)
    with pytest.raises(NotADirectoryError, match='old.png is a file'):
        check_output_dir(str(tmp_path / 'old.png'), overwrite=True)
    tool = load_tool()
    with pytest.raises(FileExistsError, match='is not empty'):  # before the config is read
        tool.main(['missing.py', 'missing.pth', '--format-only', '--out', str(tmp_path)])
    for argv, message in ((['--format-only'], '--format-only needs --out DIR'),
                          (['--server', 'acdc'], '--server applies to --format-only only'),
                          (['--format-only', '--out', 'x', '--metrics-out', 'm.json'],
                           '--format-only computes no metric')):
        with pytest.raises(SystemExit):
            tool.parse_args(['c.py', 'c.pth'] + argv)
        assert message in capsys.readouterr().err


def test_server_from_dataset_class_and_label_loading_removed():
    class ACDCDataset(CityscapesDataset):  # the nearest listed class decides
        pass

    class DarkZurichDataset(BaseSegDataset):
        pass

    assert server_of_dataset(dict(type='CityscapesDataset')) == 'cityscapes'
    assert server_of_dataset(dict(type=ACDCDataset)) == 'acdc'
    assert server_of_dataset(dict(type='ConcatDataset', datasets=[
        dict(type=DarkZurichDataset), dict(type=DarkZurichDataset)])) == 'dark_zurich'
    with pytest.raises(ValueError, match='ToyShiftDataset is not the dataset of a known test '
                       r'server .* --server \{cityscapes,acdc,dark_zurich\}'):
        server_of_dataset(dict(type='ToyShiftDataset'))
    with pytest.raises(ValueError, match=r"servers \['acdc', 'cityscapes'\]"):
        server_of_dataset(dict(type='ConcatDataset', datasets=[
            dict(type=ACDCDataset), dict(type='CityscapesDataset')]))

    tta = dict(type='TestTimeAug', transforms=[[dict(type='RandomFlip', prob=1.)],
                                               [dict(type='LoadAnnotations')],
                                               [dict(type='PackSegInputs')]])
    part = dict(type='CityscapesDataset', data_prefix=dict(img_path='i', seg_map_path='s'),
                pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                          dict(type='ValidateSegLabel'), tta])
    cfg = drop_label_loading(dict(type='ConcatDataset', datasets=[part]))
    assert cfg['datasets'][0]['data_prefix'] == dict(img_path='i')
    assert cfg['datasets'][0]['pipeline'] == [
        dict(type='LoadImageFromFile'),
        dict(type='TestTimeAug', transforms=[[dict(type='RandomFlip', prob=1.)],
                                             [dict(type='PackSegInputs')]])]
    assert part['pipeline'][1] == dict(type='LoadAnnotations')  # the config is not changed


# -- tools/test.py end to end: a tiny network, a test set whose label folder does not exist ------
@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """Configs, checkpoint and images of a 19-class network: a Cityscapes-like test set
    (``gtFine/test`` missing) and, in ``dz/``, three Dark Zurich-like images."""
    root = tmp_path_factory.mktemp('submission')
    rng = np.random.default_rng(0)
    images = {}
    for rel, (h, w) in zip(CITY_IMAGES, [(40, 72), (36, 60)]):
        images[rel] = str(root / 'cityscapes' / 'leftImg8bit' / 'test' / rel)
        os.makedirs(osp.dirname(images[rel]))
        cv2.imwrite(images[rel], rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    os.makedirs(root / 'dz')
    for i in range(3):
        cv2.imwrite(str(root / 'dz' / f'GOPR0356_frame_{i:06d}_rgb_anon.png'),
                    rng.integers(0, 256, (24 + 4 * i, 40, 3), dtype=np.uint8))
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'demo', 'source_only_toy_shift.py'))
    cfg.model.decode_head.num_classes = 19
    cfg.model.backbone.update(stem_channels=8, base_channels=8)
    cfg.model.decode_head.update(in_channels=64, channels=16)
    cfg.test_dataloader = dict(
        batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='CityscapesDataset', data_root=str(root / 'cityscapes'),
                     data_prefix=dict(img_path='leftImg8bit/test', seg_map_path='gtFine/test'),
                     pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='Resize', scale=(64, 32), keep_ratio=True),
                               dict(type='LoadAnnotations'),
                               dict(type='ValidateSegLabel', num_classes=19),
                               dict(type='PackSegInputs')]))
    cfg.dump(str(root / 'tiny.py'))
    # as the ACDC / Dark Zurich configs: a labelled test_dataloader (here missing: never built)
    # and the server's test split, which --format-only reads
    split = cfg.copy()
    split.test_split_dataloader = cfg.test_dataloader
    split.test_dataloader = dict(cfg.test_dataloader, dataset=dict(
        cfg.test_dataloader.dataset, data_prefix=dict(img_path='leftImg8bit/val',
                                                      seg_map_path='gtFine/val')))
    split.dump(str(root / 'tiny_split.py'))
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(root / 'tiny.pth'))
    return dict(root=root, cfg=cfg, model=model.eval(), images=images)


def run_tool(cmd, cwd, **env):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'OMP_NUM_THREADS': '1', **env})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def test_format_only_end_to_end_without_labels(tiny_run, tmp_path):
    from mmengine.dataset import pseudo_collate
    from mmseg.registry import DATASETS
    root, out = tiny_run['root'], str(tmp_path / 'sub')
    assert not osp.exists(root / 'cityscapes' / 'gtFine')
    log = run_tool([sys.executable, osp.join(REPO, 'tools', 'test.py'),
                    str(root / 'tiny_split.py'), str(root / 'tiny.pth'), '--format-only', '--out',
                    out, '--work-dir', str(tmp_path / 'work')], cwd=str(tmp_path))
    assert 'the images of test_split_dataloader go to the cityscapes server' in log
    assert f'submission for the cityscapes server (2 images, labelIds): {out}/cityscapes.zip' in log
    files = read_zip(osp.join(out, 'cityscapes.zip'))
    assert sorted(files) == sorted(osp.basename(p) for p in CITY_IMAGES)
    # the network's own prediction on the same inputs, back through labelId -> trainId
    dataset = DATASETS.build(drop_label_loading(tiny_run['cfg'].test_dataloader.dataset))
    for idx in range(len(dataset)):
        with torch.no_grad():
            result = tiny_run['model'].test_step(pseudo_collate([dataset[idx]]))[0]
        image = cv2.imread(result.img_path)
        png = files[osp.basename(result.img_path)]
        assert png.dtype == np.uint8 and png.shape == image.shape[:2]
        np.testing.assert_array_equal(LABEL_ID_TO_TRAIN_ID[png],
                                      result.pred_sem_seg.data[0].numpy())


def test_format_only_under_torchrun(tiny_run, tmp_path):
    root, out = tiny_run['root'], str(tmp_path / 'sub')
    os.makedirs(out)
    (tmp_path / 'sub' / 'stale.txt').write_text('an earlier run')
    # a CityscapesDataset of Dark Zurich names: --server overrides the server of the class
    dz = [f'test_dataloader.dataset.data_root={root}',
          'test_dataloader.dataset.data_prefix.img_path=dz',
          'test_dataloader.dataset.img_suffix=_rgb_anon.png']
    log = run_tool(['bash', osp.join(REPO, 'tools', 'dist_test.sh'), str(root / 'tiny.py'),
                    str(root / 'tiny.pth'), '2', '--format-only', '--out', out, '--server',
                    'dark_zurich', '--overwrite', '--work-dir', str(tmp_path / 'work'),
                    '--cfg-options'] + dz, cwd=str(tmp_path), PYTHON=sys.executable,
                   PORT=free_port())
    assert 'GPU number: 2' in log
    assert log.count('submission for the dark_zurich server') == 1  # rank 0 zips and says so
    files = read_zip(osp.join(out, 'dark_zurich.zip'))
    names = [f'GOPR0356_frame_{i:06d}_rgb_anon.png' for i in range(3)]
    assert sorted(files) == sorted(f'{d}/{n}' for d in DZ_FOLDERS for n in names)
    for i, name in enumerate(names):  # 3 images on 2 ranks: each written once, at its size
        assert files[f'confidence/{name}'].shape == (24 + 4 * i, 40)
        assert files[f'confidence/{name}'].dtype == np.uint16
    assert (tmp_path / 'sub' / 'stale.txt').exists()  # --overwrite replaces only the submission
