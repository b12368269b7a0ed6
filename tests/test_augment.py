"""Per-image photometric augmentation (models/utils/augment.py)."""
import torch

from mmseg_uda.models.utils.augment import PhotometricAug, cutout_masks


def test_cutout_masks():
    torch.manual_seed(0)
    m = cutout_masks(64, (20, 30), 6)
    areas = m.sum((1, 2, 3))
    sides = areas.sqrt()
    # clipped at the border, so a square of side s covers at most s² pixels
    assert (areas <= 36).all() and (sides == sides.round()).sum() > 10 and (areas == 0).any()
    assert cutout_masks(4, (8, 8), 0).sum() == 0


def test_identity_settings_and_range():
    mean, std = [120., 110., 100.], [50., 60., 70.]
    aug = PhotometricAug(mean, std, color_jitter=(0, 0, 0, 0), jitter_prob=0, grayscale_prob=0,
                         cutout_max=0)
    x = (torch.rand(2, 3, 8, 8) * 255 - torch.tensor(mean).view(1, 3, 1, 1)) / \
        torch.tensor(std).view(1, 3, 1, 1)
    torch.testing.assert_close(aug(x), x, atol=1e-5, rtol=0)
    gray = PhotometricAug(mean, std, jitter_prob=0, grayscale_prob=1.0, cutout_max=0)(x)
    raw = gray * torch.tensor(std).view(1, 3, 1, 1) + torch.tensor(mean).view(1, 3, 1, 1)
    torch.testing.assert_close(raw[:, 0], raw[:, 1], atol=1e-3, rtol=0)  # grey: equal channels
    out = PhotometricAug(mean, std)(x.bfloat16())
    assert out.dtype == torch.bfloat16 and torch.isfinite(out.float()).all()


def strong_aug_outputs(jitter, blur, seeds=range(20)):
    """StrongPhotometricAug on four copies of one image, for the seeds whose coin applied it."""
    from mmseg_uda.models.utils.mixing import StrongPhotometricAug
    aug = StrongPhotometricAug([120., 110., 100.], [50., 60., 70.], color_jitter_strength=jitter,
                               color_jitter_prob=0.2, blur=blur)
    x = torch.randn(1, 3, 24, 24, generator=torch.Generator().manual_seed(0)).expand(4, -1, -1, -1)
    outputs = []
    for seed in seeds:
        torch.manual_seed(seed)
        out = aug(x)
        if not torch.equal(out, x):
            outputs.append(out)
    assert outputs
    return outputs


def test_strong_aug_draws_blur_sigma_per_image():
    """DACS blurs each mixed image with its own σ ~ U(0.15, 1.15) (one coin per iteration)."""
    for out in strong_aug_outputs(jitter=0, blur=True):
        assert all(not torch.allclose(out[0], out[i]) for i in range(1, 4))


def test_strong_aug_draws_colour_jitter_per_image():
    for out in strong_aug_outputs(jitter=0.2, blur=False):
        assert all(not torch.allclose(out[0], out[i]) for i in range(1, 4))


def test_both_augmentations_share_one_normalisation_round_trip():
    """PhotometricAug and StrongPhotometricAug de-normalise, apply colour ops and re-normalise
    through one piece: an identity op gives the input back (clipped to 0–255 with ``clamp``), in
    the input's dtype."""
    from kornia.augmentation import ColorJiggle

    from mmseg_uda.models.utils.augment import NormalisedImageAug
    from mmseg_uda.models.utils.mixing import StrongPhotometricAug
    assert issubclass(PhotometricAug, NormalisedImageAug)
    assert issubclass(StrongPhotometricAug, NormalisedImageAug)
    mean, std = [120., 110., 100.], [50., 60., 70.]
    m, s = torch.tensor(mean).view(1, 3, 1, 1), torch.tensor(std).view(1, 3, 1, 1)
    raw = torch.rand(2, 3, 8, 8) * 300 - 20  # partly outside 0–255
    x = (raw - m) / s
    aug = NormalisedImageAug(mean, std)
    identity = ColorJiggle(0, 0, 0, 0, p=1.0)
    torch.testing.assert_close(aug.on_unit_range(x, identity), x, atol=1e-5, rtol=0)
    clipped = aug.on_unit_range(x, identity, clamp=True) * s + m
    torch.testing.assert_close(clipped, raw.clamp(0, 255), atol=1e-3, rtol=0)
    aug.augment = lambda img: img * 2
    assert aug(x.bfloat16()).dtype == torch.bfloat16
