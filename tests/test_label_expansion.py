"""CLDA's label expansion (models/utils/label_expansion.py) on hand-made features."""
import torch

from mmseg_uda.models.utils.label_expansion import LabelExpansion


def grid(*vectors):
    """(1, D, 1, N) features from N D-vectors."""
    return torch.tensor(vectors, dtype=torch.float).t()[None, :, None, :]


def run(exp, feats, pred, weight, confident):
    nearest, within = exp(feats, pred, weight, confident)
    labels = torch.where(confident, pred, torch.full_like(pred, 255))
    return LabelExpansion.expand(labels, confident, nearest, within)


def test_expansion_by_nearest_prototype_within_radius():
    exp = LabelExpansion(num_classes=2, dim=2, max_distance=0.1)
    feats = grid([1, 0], [0, 1], [0.99, 0.1], [0.1, 0.99], [1, 1])
    pred = torch.tensor([[[0, 1, 1, 0, 0]]])
    weight = torch.ones(1, 1, 5)
    confident = torch.tensor([[[True, True, False, False, False]]])
    labels, expanded = run(exp, feats, pred, weight, confident)
    # pixel 2 is close to class 0's prototype, pixel 3 to class 1's; pixel 4 (45 degrees, d=0.29)
    # is too far from both
    assert labels.tolist() == [[[0, 1, 0, 1, 255]]]
    assert expanded.tolist() == [[[False, False, True, True, False]]]


def test_window_accumulates_and_resets():
    exp = LabelExpansion(num_classes=2, dim=2, max_distance=0.5)
    conf = torch.tensor([[[True]]])
    run(exp, grid([1, 0]), torch.tensor([[[0]]]), torch.tensor([[[1.]]]), conf)
    run(exp, grid([0, 1]), torch.tensor([[[0]]]), torch.tensor([[[3.]]]), conf)  # ω-weighted
    torch.testing.assert_close(exp.sums[0], torch.tensor([1., 3.]))
    assert exp.totals.tolist() == [4., 0.]
    # class 1 never confident: nothing is expanded into it, no NaN
    labels, _ = run(exp, grid([0, 1]), torch.tensor([[[1]]]), torch.tensor([[[0.2]]]),
                    torch.tensor([[[False]]]))
    assert labels.item() == 0  # nearest (and only) prototype is class 0, d = 1 - 0.95 < 0.5
    exp.reset()
    assert exp.totals.sum() == 0
    labels, expanded = run(exp, grid([0, 1]), torch.tensor([[[1]]]), torch.tensor([[[0.2]]]),
                           torch.tensor([[[False]]]))
    assert labels.item() == 255 and not expanded.any()  # empty window: no prototype


def test_class_radius_is_a_quantile_of_confident_distances():
    exp = LabelExpansion(num_classes=1, dim=2, radius_quantile=1.0)
    # confident pixels at 0 and ~37 degrees: the radius is the larger distance to their mean
    feats = grid([1, 0], [0.8, 0.6], [0.9, 0.3], [0, 1])
    pred = torch.zeros(1, 1, 4, dtype=torch.long)
    confident = torch.tensor([[[True, True, False, False]]])
    labels, expanded = run(exp, feats, pred, torch.ones(1, 1, 4), confident)
    assert expanded.tolist() == [[[False, False, True, False]]]  # inside the radius / outside
    assert labels.tolist() == [[[0, 0, 0, 255]]]


def test_expand_upsamples_and_keeps_confident_pixels():
    labels = torch.tensor([[[1, 255, 255, 255]]]).expand(1, 2, 4).clone()
    confident = labels != 255
    # a 1x2 grid at stride 2: positions on columns 0 and 2, cells of columns {0} and {1, 2, 3}
    nearest = torch.tensor([[[0, 2]]])
    within = torch.tensor([[[True, True]]])
    out, expanded = LabelExpansion.expand(labels, confident, nearest, within)
    assert out.tolist() == [[[1, 2, 2, 2], [1, 2, 2, 2]]]  # column 0 is confident: kept
    assert expanded.sum() == 6


def test_cosine_distances_are_float32_under_bf16_autocast():
    """Pixels 1e-4..2e-3 rad off the bisector of two prototypes 0.9 rad apart: their cosine
    distances differ beyond bf16 precision, yet under bf16 autocast each still takes the class of
    the nearer prototype (the distances are computed in float32)."""
    exp = LabelExpansion(num_classes=2, dim=2, max_distance=1.0)
    delta = torch.cat([-torch.logspace(-4, -2.7, 8), torch.logspace(-4, -2.7, 8)])
    angles = torch.cat([torch.tensor([0.0, 0.9]), 0.45 + delta])
    feats = torch.stack([angles.cos(), angles.sin()])[None, :, None, :]  # (1, 2, 1, 18)
    pred = torch.cat([torch.tensor([0, 1]), torch.zeros(16, dtype=torch.long)])[None, None]
    confident = (torch.arange(18) < 2)[None, None]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        nearest, within = exp(feats, pred, torch.ones(1, 1, 18), confident)
    assert nearest[0, 0, 2:].tolist() == (delta > 0).long().tolist() and within.all()
