import os
import os.path as osp
import socket

import cv2
import numpy as np
import pytest

import mmseg_uda  # noqa: F401  (compatibility fixes and registration before any mmseg import)
from mmseg.utils import register_all_modules

register_all_modules(init_default_scope=True)  # registries resolve in the mmseg scope, as in configs

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def write_pairs(root, labels, img_dir='images', ann_dir='labels', img_suffix='.png',
                seg_suffix='.png', seed=0):
    """Write one random RGB image and one uint8 label PNG per label map; returns the paths."""
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, img_dir), exist_ok=True)
    os.makedirs(osp.join(root, ann_dir), exist_ok=True)
    paths = []
    for i, label in enumerate(labels):
        img = rng.integers(0, 256, (*label.shape[:2], 3), dtype=np.uint8)
        img_path = osp.join(root, img_dir, f'{i:04d}{img_suffix}')
        seg_path = osp.join(root, ann_dir, f'{i:04d}{seg_suffix}')
        cv2.imwrite(img_path, img)
        cv2.imwrite(seg_path, label.astype(np.uint8))
        paths.append((img_path, seg_path))
    return paths


def free_port():
    """A currently unused TCP port on the loopback interface, for a torchrun rendezvous."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _cpu_threads():
    import torch
    torch.set_num_threads(2)


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory):
    """The generated toy shift at 64x128 (8 train, 4 val images per domain), shared by the tests."""
    from mmseg_uda.datasets import generate_toy_shift
    root = str(tmp_path_factory.mktemp('data') / 'toy_shift')
    generate_toy_shift(root, num_train=8, num_val=4, size=(64, 128))
    return root
