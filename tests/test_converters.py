"""Label converters (GTA5, SYNTHIA, Cityscapes -> trainIds) on tiny generated fixtures."""
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg_uda.datasets.class_stats import load_sample_class_stats
from mmseg_uda.datasets.label_mapping import (CITYSCAPES_ID_TO_TRAINID, SYNTHIA_ID_TO_TRAINID,
                                              LabelConversionError, convert_cityscapes,
                                              convert_gta5, convert_labels, convert_synthia,
                                              make_lut, map_labels, read_label_ids)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOOLS = osp.join(REPO, 'tools', 'dataset_converters')
GTA_IDS = list(range(34)) + [100, 254, 255]
SYNTHIA_IDS = list(range(23)) + [255, 256, 1000, 65535]


def _ids_image(ids, dtype, shape=(6, 8), seed=0):
    """Label map holding every id of ``ids`` at least once."""
    rng = np.random.default_rng(seed)
    flat = np.concatenate([ids, rng.choice(ids, shape[0] * shape[1] - len(ids))])
    return rng.permutation(flat).astype(dtype).reshape(shape)


def _write_palette_png(path, label):
    img = Image.fromarray(label.astype(np.uint8), mode='P')
    img.putpalette(np.random.default_rng(1).integers(0, 256, 768, dtype=np.uint8).tobytes())
    img.save(path)


def _write_rgb(path, shape=(6, 8)):
    cv2.imwrite(str(path), np.zeros(shape + (3, ), np.uint8))


def _make_gta(root, n=3, missing=()):
    """GTA5 fixture; returns {label path: raw labelIds}. Images in ``missing`` get no label."""
    os.makedirs(root / 'images')
    os.makedirs(root / 'labels')
    labels = {}
    for i in range(n):
        name = f'{i + 1:05d}.png'
        _write_rgb(root / 'images' / name)
        if name in missing:
            continue
        label = _ids_image(GTA_IDS, np.uint8, seed=i)
        _write_palette_png(root / 'labels' / name, label)
        labels[str(root / 'labels' / name)] = label
    return labels


def _make_synthia(root, n=2):
    os.makedirs(root / 'RGB')
    os.makedirs(root / 'GT' / 'LABELS')
    labels = {}
    rng = np.random.default_rng(3)
    for i in range(n):
        name = f'{i:07d}.png'
        _write_rgb(root / 'RGB' / name)
        ids = _ids_image(SYNTHIA_IDS, np.uint16, seed=i)
        bgr = rng.integers(0, 65536, ids.shape + (3, ), dtype=np.uint16)  # garbage in B and G
        bgr[:, :, 2] = ids  # class id in R
        path = str(root / 'GT' / 'LABELS' / name)
        assert cv2.imwrite(path, bgr)
        labels[path] = ids
    return labels


def _make_cityscapes(root):
    labels = {}
    for split, city, n in (('train', 'aachen', 2), ('val', 'bonn', 1)):
        os.makedirs(root / 'gtFine' / split / city)
        os.makedirs(root / 'leftImg8bit' / split / city)
        for i in range(n):
            stem = f'{city}_{i:06d}_000019'
            _write_rgb(root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png')
            label = _ids_image(list(range(34)), np.uint8, seed=10 + i)
            path = str(root / 'gtFine' / split / city / f'{stem}_gtFine_labelIds.png')
            Image.fromarray(label, mode='L').save(path)
            labels[path] = label
    return labels


def _expected(raw, mapping):
    return np.vectorize(lambda v: mapping.get(int(v), 255), otypes=[np.uint8])(raw)


def _read_output(path):
    with Image.open(path) as img:
        assert img.mode == 'L'
        return np.array(img)


def _check_outputs(labels, mapping, out_path):
    for src, raw in labels.items():
        out = _read_output(out_path(src))
        assert out.dtype == np.uint8 and out.shape == raw.shape
        for v in np.unique(raw):
            assert (out[raw == v] == mapping.get(int(v), 255)).all(), (src, v)
        np.testing.assert_array_equal(out, _expected(raw, mapping))


def _check_stats(stats_file, outputs):
    """Stats list exactly ``outputs`` with np.unique counts; relative in JSON, absolute loaded."""
    with open(stats_file) as f:
        data = json.load(f)
    assert all(not osp.isabs(e['file']) for e in data['samples'])
    stats = load_sample_class_stats(stats_file)
    assert set(stats) == {osp.normpath(osp.abspath(p)) for p in outputs}
    for path in outputs:
        values, counts = np.unique(_read_output(path), return_counts=True)
        expected = {int(v): int(n) for v, n in zip(values, counts) if v != 255}
        assert stats[osp.normpath(osp.abspath(path))] == expected
    return data


def _gta_out(src):
    return src[:-len('.png')] + '_labelTrainIds.png'


def _load_tool(name):
    path = osp.join(TOOLS, f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_converter_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_lut_and_map_labels():
    lut = make_lut({1: 5, 3: 7}, size=4)
    assert lut.tolist() == [255, 5, 255, 7]
    label = np.array([[0, 1, 2, 3, 4, 300]], np.uint16)
    assert map_labels(label, lut).tolist() == [[255, 5, 255, 7, 255, 255]]
    assert map_labels(np.array([-1, 1, 3]), lut).tolist() == [255, 5, 7]
    full = make_lut(SYNTHIA_ID_TO_TRAINID, 1 << 16)
    assert map_labels(np.array([65535, 3], np.uint16), full).tolist() == [255, 0]
    with pytest.raises(ValueError, match='300'):
        make_lut({300: 1})
    with pytest.raises(TypeError):
        map_labels(np.zeros(2, np.float32), lut)


def test_tables():
    assert sorted(CITYSCAPES_ID_TO_TRAINID.values()) == list(range(19))
    assert sorted(SYNTHIA_ID_TO_TRAINID.values()) == list(range(19))
    for unmapped in (0, 13, 14, 22):
        assert unmapped not in SYNTHIA_ID_TO_TRAINID


def test_gta5_mapping_and_stats(tmp_path):
    labels = _make_gta(tmp_path)
    # A palette PNG's pixels are its indices; OpenCV would decode the palette colours instead.
    src = next(iter(labels))
    np.testing.assert_array_equal(read_label_ids(src), labels[src])
    summary = convert_gta5(str(tmp_path))
    assert summary['converted'] == 3 and summary['kept'] == 0 and summary['num_stats'] == 3
    _check_outputs(labels, CITYSCAPES_ID_TO_TRAINID, _gta_out)
    assert summary['stats_file'] == osp.join(str(tmp_path), 'sample_class_stats.json')
    _check_stats(summary['stats_file'], [_gta_out(p) for p in labels])
    # Greyscale labelIds are accepted too; outputs in the folder are never inputs.
    grey = _ids_image(GTA_IDS, np.uint8, seed=7)
    Image.fromarray(grey, mode='L').save(src)
    summary = convert_gta5(str(tmp_path), overwrite=True)
    assert summary['converted'] == 3 and summary['num_stats'] == 3
    _check_outputs({src: grey}, CITYSCAPES_ID_TO_TRAINID, _gta_out)


def test_synthia_mapping_and_stats(tmp_path):
    labels = _make_synthia(tmp_path)
    out_path = _gta_out
    summary = convert_synthia(str(tmp_path))
    assert summary['converted'] == 2
    _check_outputs(labels, SYNTHIA_ID_TO_TRAINID, out_path)
    _check_stats(summary['stats_file'], [out_path(p) for p in labels])
    # A single-channel 16-bit label is used as is.
    src = next(iter(labels))
    single = _ids_image(SYNTHIA_IDS, np.uint16, seed=5)
    cv2.imwrite(src, single)
    assert cv2.imread(src, cv2.IMREAD_UNCHANGED).dtype == np.uint16
    convert_synthia(str(tmp_path), overwrite=True)
    _check_outputs({src: single}, SYNTHIA_ID_TO_TRAINID, out_path)


def test_cityscapes_mapping_and_train_stats(tmp_path):
    labels = _make_cityscapes(tmp_path)

    def out_path(src):
        return src.replace('_gtFine_labelIds.png', '_gtFine_labelTrainIds.png')

    summary = convert_cityscapes(str(tmp_path))
    assert summary['converted'] == 3 and summary['num_stats'] == 2
    _check_outputs(labels, CITYSCAPES_ID_TO_TRAINID, out_path)
    train = [out_path(p) for p in labels if f'{os.sep}train{os.sep}' in p]
    data = _check_stats(summary['stats_file'], train)
    assert all(e['file'].startswith(osp.join('gtFine', 'train')) for e in data['samples'])


def test_resume_and_overwrite(tmp_path):
    labels = _make_gta(tmp_path)
    convert_gta5(str(tmp_path))
    stats_file = tmp_path / 'sample_class_stats.json'
    first_stats = stats_file.read_text()
    outputs = [_gta_out(p) for p in labels]
    for p in outputs:  # an old mtime makes any rewrite visible
        os.utime(p, ns=(10**18, 10**18))
    summary = convert_gta5(str(tmp_path), nproc=2)
    assert summary['converted'] == 0 and summary['kept'] == 3
    assert all(os.stat(p).st_mtime_ns == 10**18 for p in outputs)
    assert stats_file.read_text() == first_stats
    # An interrupted run: a missing output is converted, the rest is kept.
    os.remove(outputs[1])
    summary = convert_gta5(str(tmp_path))
    assert (summary['converted'], summary['kept']) == (1, 2)
    assert stats_file.read_text() == first_stats
    # A damaged output is derived data: it is converted again.
    with open(outputs[2], 'wb') as f:
        f.write(b'truncated')
    summary = convert_gta5(str(tmp_path))
    assert (summary['converted'], summary['kept']) == (1, 2)
    assert stats_file.read_text() == first_stats
    summary = convert_gta5(str(tmp_path), overwrite=True)
    assert summary['converted'] == 3
    assert all(os.stat(p).st_mtime_ns != 10**18 for p in outputs)
    assert stats_file.read_text() == first_stats
    assert not [f for f in os.listdir(tmp_path / 'labels') if '.tmp' in f]


def test_missing_paths(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        convert_gta5(missing)
    os.makedirs(tmp_path / 'gta' / 'images')
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / 'gta' / 'labels'))):
        convert_gta5(str(tmp_path / 'gta'))
    os.makedirs(tmp_path / 'syn' / 'RGB')
    with pytest.raises(FileNotFoundError, match='LABELS'):
        convert_synthia(str(tmp_path / 'syn'))
    os.makedirs(tmp_path / 'cs')
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / 'cs' / 'gtFine'))):
        convert_cityscapes(str(tmp_path / 'cs'))


def test_empty_label_folder(tmp_path):
    _make_gta(tmp_path, n=1, missing=('00001.png', ))
    with pytest.raises(LabelConversionError, match=re.escape(str(tmp_path / 'labels'))):
        convert_gta5(str(tmp_path))
    os.makedirs(tmp_path / 'cs' / 'gtFine' / 'train')
    with pytest.raises(LabelConversionError, match=re.escape(str(tmp_path / 'cs' / 'gtFine'))):
        convert_cityscapes(str(tmp_path / 'cs'))


@pytest.mark.parametrize('nproc', [1, 2])
def test_corrupt_label(tmp_path, nproc):
    labels = _make_gta(tmp_path)
    bad = sorted(labels)[1]
    with open(bad, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n not really a png')
    with pytest.raises(LabelConversionError, match=re.escape(bad)):
        convert_gta5(str(tmp_path), nproc=nproc)
    assert not (tmp_path / 'sample_class_stats.json').exists()
    assert not osp.exists(_gta_out(bad))
    assert all(osp.exists(_gta_out(p)) for p in labels if p != bad)  # the others are converted
    syn = tmp_path / 'syn'
    syn_labels = _make_synthia(syn)
    bad = sorted(syn_labels)[0]
    with open(bad, 'wb') as f:
        f.write(b'garbage')
    with pytest.raises(LabelConversionError, match=re.escape(bad)):
        convert_synthia(str(syn), nproc=nproc)


def test_colour_label_rejected(tmp_path):
    labels = _make_gta(tmp_path, n=1)
    src = next(iter(labels))
    Image.fromarray(np.zeros((6, 8, 3), np.uint8)).save(src)
    with pytest.raises(LabelConversionError, match=re.escape(src) + '.*mode RGB'):
        convert_gta5(str(tmp_path))


def test_image_without_label(tmp_path):
    labels = _make_gta(tmp_path, missing=('00002.png', ))
    image = str(tmp_path / 'images' / '00002.png')
    with pytest.raises(LabelConversionError, match=re.escape(image)):
        convert_gta5(str(tmp_path))
    with pytest.warns(UserWarning, match=re.escape(image)):
        summary = convert_gta5(str(tmp_path), skip_missing=True)
    assert summary['converted'] == 2 and summary['missing'] == 1
    _check_stats(summary['stats_file'], [_gta_out(p) for p in labels])
    # A label without image is not part of the dataset: warned about and not converted.
    os.remove(tmp_path / 'images' / '00003.png')
    with pytest.warns(UserWarning, match='00003.png'):
        summary = convert_gta5(str(tmp_path), skip_missing=True)
    assert summary['orphans'] == 1 and summary['num_stats'] == 1


def test_convert_labels_order(tmp_path):
    items = []
    for i in range(5):
        src = str(tmp_path / f'{i}.png')
        Image.fromarray(np.full((2, 2), 7 + i, np.uint8), mode='L').save(src)
        items.append((src, str(tmp_path / f'{i}_out.png')))
    results = convert_labels(items, read_label_ids, make_lut(CITYSCAPES_ID_TO_TRAINID), nproc=2)
    assert [p for p, _ in results] == [dst for _, dst in items]
    assert [c for _, c in results] == [{0: 4}, {1: 4}, {}, {}, {2: 4}]
    assert convert_labels([], read_label_ids, make_lut({})) == []


def test_cli_errors_in_process(tmp_path, capsys):
    for name in ('gta', 'synthia', 'cityscapes'):
        tool = _load_tool(name)
        with pytest.raises(SystemExit) as exc:
            tool.main([str(tmp_path / 'nowhere')])
        assert exc.value.code == 1
        assert str(tmp_path / 'nowhere') in capsys.readouterr().err
    _make_gta(tmp_path / 'gta', missing=('00001.png', ))
    gta = _load_tool('gta')
    with pytest.raises(SystemExit):
        gta.main([str(tmp_path / 'gta'), '--nproc', '1'])
    assert str(tmp_path / 'gta' / 'images' / '00001.png') in capsys.readouterr().err
    summary = gta.main([str(tmp_path / 'gta'), '--nproc', '1', '--skip-missing'])
    assert summary['converted'] == 2
    out, err = capsys.readouterr()
    assert '2 converted' in out
    assert 'warning: 1 image(s) without a label' in err and '00001.png' in err
    with pytest.raises(SystemExit) as exc:
        gta.main([str(tmp_path / 'gta'), '--nproc', '0'])
    assert exc.value.code == 2


def test_cli_subprocess(tmp_path):
    labels = _make_gta(tmp_path / 'gta')
    cwd = tmp_path / 'elsewhere'
    os.makedirs(cwd)
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'gta.py'), osp.join('..', 'gta'), '--nproc', '2'],
        cwd=cwd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '3 converted' in proc.stdout and 'sample_class_stats.json' in proc.stdout
    _check_outputs(labels, CITYSCAPES_ID_TO_TRAINID, _gta_out)
    data = _check_stats(tmp_path / 'gta' / 'sample_class_stats.json', [_gta_out(p) for p in labels])
    assert [e['file'] for e in data['samples']] == [
        osp.join('labels', f'0000{i}_labelTrainIds.png') for i in (1, 2, 3)]
