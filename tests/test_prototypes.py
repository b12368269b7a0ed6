"""Class prototypes and class-adaptive thresholds (models/utils/prototypes.py)."""
import torch

from mmseg_uda.models.utils.prototypes import class_adaptive_thresholds, class_prototypes


def test_weighted_prototypes_by_hand():
    feats = torch.tensor([[1., 0.], [0., 1.], [3., 4.], [9., 9.]])
    labels = torch.tensor([0, 0, 2, 255])
    weights = torch.tensor([3., 1., 0.5, 1.])
    protos, present = class_prototypes(feats, labels, 3, weights, normalize=False)
    torch.testing.assert_close(protos, torch.tensor([[0.75, 0.25], [0., 0.], [3., 4.]]))
    assert present.tolist() == [True, False, True]
    protos, _ = class_prototypes(feats, labels, 3, weights)
    torch.testing.assert_close(protos[2], torch.tensor([0.6, 0.8]))
    assert protos[1].abs().sum() == 0  # absent class stays zero, no NaN


def test_all_ignore_and_zero_weights():
    protos, present = class_prototypes(torch.randn(4, 3), torch.full((4, ), 255), 2)
    assert not present.any() and torch.isfinite(protos).all()
    protos, present = class_prototypes(torch.randn(4, 3), torch.zeros(4, dtype=torch.long), 2,
                                       weights=torch.zeros(4))
    assert not present.any() and torch.isfinite(protos).all()


def test_class_adaptive_thresholds():
    conf = torch.tensor([0.95, 0.5, 0.6, 0.7, 0.8, 0.9, 0.3, 0.99, 0.4, 0.2, 0.1])
    pred = torch.tensor([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    taus = class_adaptive_thresholds(conf, pred, num_classes=3, tau0=0.9, top=0.1)
    # class 1: 10 values, the 9th smallest (90 % quantile) is 0.9 -> min(0.9, 0.9)
    # class 0: one value 0.95 -> 0.9; class 2: never predicted -> 0.9
    torch.testing.assert_close(taus, torch.tensor([0.9, 0.9, 0.9]))
    taus = class_adaptive_thresholds(conf * 0.5, pred, 3, tau0=0.9, top=0.1)
    torch.testing.assert_close(taus, torch.tensor([0.475, 0.45, 0.9]))


def test_weighted_prototypes_are_float32_under_autocast():
    """ω-weighted class means (sums, totals, normalisation) under bf16 autocast equal float32's to
    1e-6, for float32 and bf16 embeddings and weights."""
    from test_contrastive_losses import amp_equals_float32
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (50, ), generator=g)
    amp_equals_float32(lambda f, w: class_prototypes(f, labels, 4, weights=w)[0],
                       torch.randn(50, 8, generator=g), torch.rand(50, generator=g))
