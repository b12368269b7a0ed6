import os.path as osp

import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.fileio import list_dir_or_file
from mmseg.registry import TRANSFORMS

from ...models.utils.fda import fda_source_to_target


@TRANSFORMS.register_module()
class FDA(BaseTransform):
    """Translate the (source) image to the target style with FDA against a random target image.

    The target image is drawn uniformly from ``target_dir`` (numpy's RNG, seeded by mmengine per run
    and worker), randomly cropped to the sample's size (resized first if it is smaller), and
    :func:`fda_source_to_target` swaps the low-frequency amplitude. Place it after the geometric
    transforms and before normalisation (FDA works on raw pixel values). Labels are unchanged.

    Args:
        target_dir (str): folder of target images (searched recursively).
        beta (float): FDA's β. Default: 0.01 (the FDA paper's smallest band).
        img_suffix (str): suffix of the target images. Default: '.png'.
        prob (float): probability of translating a sample. Default: 1.
    """

    def __init__(self, target_dir, beta=0.01, img_suffix='.png', prob=1.0):
        if not osp.isdir(target_dir):
            raise FileNotFoundError(f'FDA: target_dir {target_dir} does not exist')
        self.files = sorted(list_dir_or_file(target_dir, list_dir=False, suffix=img_suffix,
                                             recursive=True))
        if not self.files:
            raise ValueError(f'FDA: no *{img_suffix} image in target_dir {target_dir}')
        self.target_dir, self.beta, self.prob = target_dir, beta, prob

    def target_like(self, shape):
        """A random target image, cropped (or resized, then cropped) to ``shape`` (H, W)."""
        path = osp.join(self.target_dir, self.files[np.random.randint(len(self.files))])
        tgt = mmcv.imread(path)
        if tgt is None:
            raise OSError(f'FDA: cannot read target image {path}')
        h, w = shape
        scale = max(h / tgt.shape[0], w / tgt.shape[1])
        if scale > 1:
            tgt = mmcv.imrescale(tgt, scale)
        y = np.random.randint(tgt.shape[0] - h + 1)
        x = np.random.randint(tgt.shape[1] - w + 1)
        return tgt[y:y + h, x:x + w]

    def transform(self, results):
        if np.random.rand() >= self.prob:
            return results
        img = results['img']
        tgt = self.target_like(img.shape[:2])
        as_chw = lambda a: torch.from_numpy(np.ascontiguousarray(a)).float().permute(2, 0, 1)  # noqa
        out = fda_source_to_target(as_chw(img), as_chw(tgt), self.beta)
        results['img'] = out.permute(1, 2, 0).round().numpy().astype(img.dtype)
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(target_dir={self.target_dir!r}, beta={self.beta}, '
                f'prob={self.prob}, {len(self.files)} images)')
