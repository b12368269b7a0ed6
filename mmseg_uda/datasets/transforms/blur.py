import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomGaussianBlur(BaseTransform):
    """Blur the image with a Gaussian of σ ~ U(``sigma``) with probability ``prob``.

    mmseg's only blur is the 3-D ``BioMedicalGaussianBlur``; this is the 2-D photometric one to pair
    with ``PhotoMetricDistortion``. The kernel covers ±3σ. Labels are untouched. Draws from numpy's
    global RNG, which mmengine seeds per run and dataloader worker (as mmseg's transforms).

    Args:
        prob (float): probability of blurring. Default: 0.5.
        sigma (tuple[float, float]): range of σ in pixels. Default: (0.1, 2.0).
    """

    def __init__(self, prob=0.5, sigma=(0.1, 2.0)):
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomGaussianBlur: prob must be in [0, 1], got {prob}')
        if not 0 < sigma[0] <= sigma[1]:
            raise ValueError(f'RandomGaussianBlur: sigma must be 0 < low <= high, got {sigma}')
        self.prob = prob
        self.sigma = tuple(sigma)

    def transform(self, results):
        if np.random.rand() < self.prob:
            s = np.random.uniform(*self.sigma)
            results['img'] = cv2.GaussianBlur(results['img'], (0, 0), sigmaX=s, sigmaY=s)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(prob={self.prob}, sigma={self.sigma})'
