"""Label downsampling and class-balanced pixel sampling (models/utils/sampling.py)."""
import torch

from mmseg_uda.models.utils.sampling import labels_to_grid, sample_per_class


def test_majority_labels_by_hand():
    labels = torch.tensor([[[0, 1, 1, 1],
                            [2, 1, 1, 1],
                            [2, 1, 3, 3],
                            [2, 255, 1, 1]]])
    # stride 2: centres on pixels 0 and 2, cells rows/cols {0} and {1, 2, 3}
    # cells: {0} -> 0; {1,1,1} -> 1; {2,2,2} -> 2; six 1 of nine (67 %) -> 1 only below 0.67
    out = labels_to_grid(labels, (2, 2), 'ratio', 0.75, num_classes=4)
    assert out.tolist() == [[[0, 1], [2, 255]]]
    out = labels_to_grid(labels, (2, 2), 'ratio', 0.6, num_classes=4)
    assert out.tolist() == [[[0, 1], [2, 1]]]
    assert labels_to_grid(labels, (2, 2)).tolist() == [[[0, 1], [2, 3]]]  # the centre pixels


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
