"""FDA (Yang & Soatto, CVPR 2020): the tensor function and the pipeline transform."""
import cv2
import numpy as np
import pytest
import torch

from mmseg_uda.datasets.transforms import FDA
from mmseg_uda.models.utils.fda import fda_source_to_target


def images(seed=0, shape=(2, 3, 20, 30)):
    g = torch.Generator().manual_seed(seed)
    return 100 + 50 * torch.rand(shape, generator=g, dtype=torch.float64)  # away from the clamp


def test_identity_cases():
    src, tgt = images(0), images(1)
    torch.testing.assert_close(fda_source_to_target(src, tgt, beta=0.0), src)
    torch.testing.assert_close(fda_source_to_target(src, tgt, beta=0.04), src)  # b = 0 at H=20
    torch.testing.assert_close(fda_source_to_target(src, src, beta=0.2), src)


def test_dc_amplitude_comes_from_the_target():
    """b >= 1 swaps the zero frequency: each channel gets the target's mean (both positive)."""
    src, tgt = images(0), images(1) - 60
    out = fda_source_to_target(src, tgt, beta=0.05)  # b = 1: the four corner entries, DC included
    torch.testing.assert_close(out.mean((-2, -1)), tgt.mean((-2, -1)))
    assert (out - src).abs().max() > 1


def test_only_low_frequencies_change():
    src, tgt = images(0), images(1)
    b = 3
    out = fda_source_to_target(src, tgt, beta=b / 20)
    diff = torch.fft.fft2(out - src).abs()
    low = torch.zeros(20, 30, dtype=torch.bool)
    idx_h = [*range(b + 1), *range(20 - b, 20)]  # the band and its conjugate mirror
    idx_w = [*range(b + 1), *range(30 - b, 30)]
    low[np.ix_(idx_h, idx_w)] = True
    assert diff[..., ~low].max() < 1e-6 * diff.max()
    amp_out = torch.fft.fft2(out).abs()[..., 1:b, 1:b]  # strictly inside the band
    amp_tgt = torch.fft.fft2(tgt).abs()[..., 1:b, 1:b]
    torch.testing.assert_close(amp_out, amp_tgt, rtol=0.05, atol=1.0)


def test_clamp_dtype_and_errors():
    src = torch.full((1, 3, 8, 8), 250.0)
    out = fda_source_to_target(src, torch.full((1, 3, 8, 8), 400.0), beta=0.2)
    assert out.max() <= 255 and out.dtype == src.dtype
    with pytest.raises(ValueError, match=r'source size \(8, 8\) differs from target size'):
        fda_source_to_target(src, torch.zeros(1, 3, 4, 8))
    with pytest.raises(ValueError, match='beta'):
        fda_source_to_target(src, src, beta=0.7)


def test_transform(tmp_path):
    (tmp_path / 'tgt' / 'sub').mkdir(parents=True)
    dark = np.full((30, 40, 3), 20, np.uint8)
    cv2.imwrite(str(tmp_path / 'tgt' / 'sub' / 'a.png'), dark)
    t = FDA(str(tmp_path / 'tgt'), beta=0.1)
    img = np.random.default_rng(0).integers(100, 120, (48, 64, 3)).astype(np.uint8)  # larger
    label = np.ones((48, 64), np.uint8)
    out = t(dict(img=img.copy(), gt_seg_map=label))
    assert out['img'].shape == img.shape and out['img'].dtype == np.uint8
    assert abs(out['img'].mean() - 20) < 1.5  # the target's brightness
    assert (out['gt_seg_map'] == label).all()
    with pytest.raises(ValueError, match=r'no \*\.jpg image'):
        FDA(str(tmp_path / 'tgt'), img_suffix='.jpg')
    with pytest.raises(FileNotFoundError, match='nowhere'):
        FDA(str(tmp_path / 'nowhere'))
