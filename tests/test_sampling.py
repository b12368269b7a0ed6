"""Label downsampling and class-balanced pixel sampling (models/utils/sampling.py)."""
import torch

from mmseg_uda.models.utils.sampling import downscale_label_ratio, sample_per_class


def test_downscale_label_ratio_by_hand():
    labels = torch.tensor([[[0, 0, 1, 1],
                            [0, 1, 1, 1],
                            [2, 2, 255, 255],
                            [2, 255, 255, 255]]])
    out = downscale_label_ratio(labels, 2, 0.75, num_classes=3)
    # cells: {0,0,0,1} -> 0 (75 %); {1,1,1,1} -> 1; {2,2,2,255} -> 2 (75 %); all ignore -> 255
    assert out.tolist() == [[[0, 1], [2, 255]]]
    out = downscale_label_ratio(labels, 2, 0.8, num_classes=3)
    assert out.tolist() == [[[255, 1], [255, 255]]]


def test_sample_per_class():
    labels = torch.tensor([0] * 10 + [1] * 3 + [255] * 5 + [2] * 7).view(5, 5)
    g = torch.Generator().manual_seed(0)
    idx = sample_per_class(labels, 4, num_classes=3, generator=g)
    drawn = labels.flatten()[idx]
    assert torch.bincount(drawn, minlength=3).tolist() == [4, 3, 4]  # class 1 has only 3
    assert idx.unique().numel() == idx.numel()  # without replacement
    again = sample_per_class(labels, 4, 3, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(torch.sort(idx).values, torch.sort(again).values)  # random draw
    assert sample_per_class(torch.full((3, 3), 255), 4, 3).numel() == 0  # all ignore
