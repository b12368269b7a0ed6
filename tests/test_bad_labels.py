"""Bad labels and datasets caught when the data is loaded or training starts (issue 20, item 11):
colour labels, an all-ignore source set, crops larger than the image, stale class statistics and
missing val/test label folders."""
import json
import logging
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import write_pairs
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
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


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


def test_rgb_label_in_the_class_statistics_pass(tmp_path):
    """Rare-class sampling counts classes before any pipeline runs: the same check applies."""
    write_pairs(tmp_path / 'tgt', [np.zeros((8, 8), np.uint8)])
    paths = write_pairs(tmp_path / 'src', [np.zeros((8, 8), np.uint8)])
    cv2.imwrite(paths[0][1], np.full((8, 8, 3), 1, np.uint8))
    with pytest.raises(ValueError, match=rf'label {paths[0][1]}: the label has shape \(8, 8, 3\)'):
        UDADataset(source_cfg(tmp_path / 'src'), plain_target(tmp_path / 'tgt'),
                   rare_class_sampling=dict(min_pixels=1))
