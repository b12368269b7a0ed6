"""Random affine views (models/utils/geometric.py): images, labels and probabilities stay aligned."""
import torch

from mmseg_uda.models.utils.geometric import random_affine, warp_images, warp_labels


def test_identity_and_flip():
    img = torch.arange(2 * 3 * 4 * 5, dtype=torch.float).view(2, 3, 4, 5)
    labels = torch.randint(0, 7, (2, 4, 5))
    m = random_affine(2, (4, 5), (4, 5))
    torch.testing.assert_close(warp_images(img, m, (4, 5)), img)
    assert torch.equal(warp_labels(labels, m, (4, 5)), labels)
    m = random_affine(2, (4, 5), (4, 5), flip_prob=1.0)
    torch.testing.assert_close(warp_images(img, m, (4, 5)), img.flip(-1))
    assert torch.equal(warp_labels(labels, m, (4, 5)), labels.flip(-1))


def test_rotation_matrix():
    g = torch.Generator().manual_seed(0)
    m = random_affine(4, (5, 5), (5, 5), max_rotation=30.0, generator=g)
    a = m[:, :, :2]
    torch.testing.assert_close(a @ a.transpose(1, 2), torch.eye(2).expand(4, 2, 2))  # s = 1
    angles = torch.atan2(a[:, 1, 0], a[:, 0, 0]) * 180 / torch.pi
    assert (angles.abs() <= 30).all() and angles.std() > 0
    centre = torch.tensor([2., 2., 1.])
    torch.testing.assert_close(m @ centre, torch.full((4, 2), 2.))  # about the centre


def test_warp_by_a_quarter_turn_is_rot90():
    labels = torch.randint(0, 7, (1, 5, 5))
    m = torch.tensor([[[0., -1., 4.], [1., 0., 0.]]])  # (x, y) -> (4 - y, x)
    assert torch.equal(warp_labels(labels, m, (5, 5))[0], torch.rot90(labels[0], 1, (1, 0)))


def test_padding_and_consistency():
    labels = torch.randint(0, 4, (3, 16, 16))
    onehot = torch.nn.functional.one_hot(labels, 4).permute(0, 3, 1, 2).float()
    g = torch.Generator().manual_seed(1)
    m = random_affine(3, (16, 16), (12, 12), scale=(0.4, 0.6), max_rotation=45, flip_prob=0.5,
                      generator=g)
    lab = warp_labels(labels, m, (12, 12))
    prob = warp_images(onehot, m, (12, 12))
    assert (lab == 255).any()  # a small, rotated image leaves padding
    assert (prob.sum(1)[lab == 255] < 1).all()  # zero-filled where the labels are padding
    # wherever the warped probabilities are (almost) pure, their argmax is the warped label
    pure = (prob.max(1).values > 0.99) & (lab != 255)
    assert pure.any() and torch.equal(prob.argmax(1)[pure], lab[pure])
    filled = warp_images(torch.zeros(3, 1, 16, 16), m, (12, 12), fill=-5.0)
    assert (filled[:, 0][lab == 255] == -5).all()
