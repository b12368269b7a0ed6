"""Our dataset classes and their input checks, on generated fixtures."""
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import write_pairs
from mmseg.registry import DATASETS

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='ValidateSegLabel'), dict(type='PackSegInputs')]


def build(type_, root, pipeline=LOAD, **kwargs):
    kwargs.setdefault('data_prefix', dict(img_path='images', seg_map_path='labels'))
    return DATASETS.build(dict(type=type_, data_root=str(root), pipeline=pipeline, **kwargs))


@pytest.mark.parametrize('type_', ['GTA5Dataset', 'SynthiaDataset'])
def test_cityscapes_label_space_datasets(tmp_path, type_):
    labels = [np.full((8, 12), c, np.uint8) for c in (0, 18, 255)]
    write_pairs(tmp_path, labels, seg_suffix='_labelTrainIds.png')
    ds = build(type_, tmp_path)
    assert len(ds) == 3 and len(ds.metainfo['classes']) == 19
    assert ds[1]['data_samples'].gt_sem_seg.data.unique().tolist() == [18]


def test_synthia_class_subsets():
    from mmseg_uda.datasets import SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES
    assert SYNTHIA_16_CLASSES == (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18)
    assert SYNTHIA_13_CLASSES == (0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18)


def test_camvid_void_becomes_ignore(tmp_path):
    label = np.arange(12, dtype=np.uint8).repeat(2).reshape(4, 6)
    write_pairs(tmp_path, [label], img_dir='train', ann_dir='trainannot')
    ds = build('CamVidDataset', tmp_path,
               data_prefix=dict(img_path='train', seg_map_path='trainannot'))
    assert len(ds.metainfo['classes']) == 11
    out = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    expected = label.copy()
    expected[label == 11] = 255
    np.testing.assert_array_equal(out, expected)


def test_camvid_sequences(tmp_path):
    import os
    write_pairs(tmp_path, [np.zeros((4, 4), np.uint8)] * 3)
    for i, name in enumerate(['0001TP_000010', '0006R0_f00930', '0016E5_00390']):
        for folder in ('images', 'labels'):
            os.rename(tmp_path / folder / f'{i:04d}.png', tmp_path / folder / f'{name}.png')
    ds = build('CamVidDataset', tmp_path, sequences=['0006R0', '0016E5'])
    assert sorted(osp.basename(ds.get_data_info(i)['img_path'])[:6]
                  for i in range(len(ds))) == ['0006R0', '0016E5']
    assert len(build('CamVidDataset', tmp_path, sequences='0001TP')) == 1
    with pytest.raises(ValueError, match=r"sequences \['Seq05VD'\] have no image .*found"):
        build('CamVidDataset', tmp_path, sequences=['Seq05VD'])


def test_target_without_labels(tmp_path):
    write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)])
    ds = build('GTA5Dataset', tmp_path, data_prefix=dict(img_path='images'),
               pipeline=[dict(type='LoadImageFromFile'), dict(type='PackSegInputs')])
    sample = ds[0]
    assert 'gt_sem_seg' not in sample['data_samples']


def test_missing_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=osp.join(str(tmp_path), 'nowhere')):
        build('GTA5Dataset', tmp_path / 'nowhere')


def test_missing_image_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='image folder .*images'):
        build('GTA5Dataset', tmp_path)


def test_empty_dataset(tmp_path):
    (tmp_path / 'images').mkdir()
    with pytest.raises(ValueError, match='no images found'):
        build('CamVidDataset', tmp_path)


def test_image_without_label(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)] * 2)
    missing = paths[1][1]
    import os
    os.remove(missing)
    with pytest.raises(FileNotFoundError, match=f'{paths[1][0]} has no label file {missing}'):
        build('CamVidDataset', tmp_path)


def test_label_value_out_of_range(tmp_path):
    paths = write_pairs(tmp_path, [np.array([[0, 1], [11, 42]], np.uint8)])
    ds = build('CamVidDataset', tmp_path)  # 11 is void (ignored), 42 is not a class
    with pytest.raises(ValueError, match=rf'{paths[0][1]}.*values \[42\].*0\.\.10'):
        ds[0]


def test_label_size_mismatch(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)])
    cv2.imwrite(paths[0][1], np.zeros((6, 8), np.uint8))
    ds = build('CamVidDataset', tmp_path)
    with pytest.raises(ValueError, match=r'label size \(6, 8\) differs from image size \(8, 8\)'):
        ds[0]


def test_validate_with_explicit_num_classes(tmp_path):
    write_pairs(tmp_path, [np.array([[0, 5], [1, 2]], np.uint8)])
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='ValidateSegLabel', num_classes=5), dict(type='PackSegInputs')]
    ds = DATASETS.build(dict(type='BaseSegDataset', data_root=str(tmp_path), img_suffix='.png',
                             data_prefix=dict(img_path='images', seg_map_path='labels'),
                             pipeline=pipeline))
    with pytest.raises(ValueError, match=r'values \[5\]'):
        ds[0]
