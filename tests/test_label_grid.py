"""Labels on the feature grid with the network's geometry (models/utils/sampling.py), checked
against a literal reference at crops the output stride does not divide, and per method."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS
from test_confeti import build_confeti
from test_dacs import NUM_CLASSES, build_dacs
from test_rccr import build_rccr
from test_t2sda import build_t2sda

from mmseg_uda.models.losses import DomainContrast
from mmseg_uda.models.losses.prototype_contrast import _columns_and_labels
from mmseg_uda.models.segmentors.sdca import flatten
from mmseg_uda.models.utils.label_expansion import LabelExpansion
from mmseg_uda.models.utils.sampling import cells_to_pixels, labels_to_grid

IGNORE = 255


# -- the literal reference -----------------------------------------------------------------------
def conv_out(n, kernel, stride, padding):
    return (n + 2 * padding - kernel) // stride + 1


def resnet_grid(n, stride):
    """ResNetV1c's output size: 3x3/2 stem conv, 3x3/2 max pool, then 3x3/2 convs (all pad 1)."""
    for _ in range(int(np.log2(stride))):
        n = conv_out(n, 3, 2, 1)
    return n


def owners(n, m, stride):
    """The feature position of every pixel along an axis: the nearest centre s·j (ties: later j)."""
    out = []
    for p in range(n):
        best, best_d = None, None
        for j in range(m):
            d = abs(p - stride * j)
            if best is None or d <= best_d:
                best, best_d = j, d
        out.append(best)
    return out


def reference(labels, grid, stride, mode, min_ratio=0.75, num_classes=NUM_CLASSES):
    """(H, W) numpy labels on an (h, w) grid, one explicit pixel set per cell."""
    (h, w), (big_h, big_w) = grid, labels.shape
    rows, cols = owners(big_h, h, stride), owners(big_w, w, stride)
    row_sets = [[p for p in range(big_h) if rows[p] == i] for i in range(h)]
    col_sets = [[p for p in range(big_w) if cols[p] == j] for j in range(w)]
    out = np.full((h, w), IGNORE, dtype=np.float64 if mode == 'mean' else np.int64)
    for i in range(h):
        for j in range(w):
            if mode == 'nearest':
                out[i, j] = labels[stride * i, stride * j]
                continue
            block = labels[np.ix_(row_sets[i], col_sets[j])].ravel()
            if mode == 'mean':
                out[i, j] = block.mean()
                continue
            slots = np.where((block >= 0) & (block < num_classes), block, num_classes)
            counts = np.bincount(slots, minlength=num_classes + 1)
            major = int(counts.argmax())
            if major < num_classes and np.float32(counts[major]) / np.float32(block.size) \
                    >= min_ratio:
                out[i, j] = major
    return out


def blocky(size, seed=0, block=(11, 13)):
    """A (H, W) label of random classes (and ignore) on blocks that no stride divides."""
    rng = np.random.default_rng(seed)
    classes = rng.choice([0, 1, 2, 3, IGNORE], size=(size[0] // block[0] + 1,
                                                     size[1] // block[1] + 1),
                         p=[0.24, 0.24, 0.24, 0.24, 0.04])
    return classes.repeat(block[0], 0).repeat(block[1], 1)[:size[0], :size[1]]


def ref_pixels(values, size, stride=8):
    """(B, h, w) values on (B, H, W) pixels: each pixel takes its reference cell's value."""
    rows, cols = owners(size[0], values.shape[-2], stride), owners(size[1], values.shape[-1], stride)
    return values[:, rows][:, :, cols]


def ref_batch(labels, grid, mode='nearest', **kw):
    """The reference of each (H, W) map of a (B, H, W) tensor, stride read off the ResNet sizes."""
    stride = next(s for s in (1, 2, 4, 8, 16, 32) if resnet_grid(labels.shape[-2], s) == grid[0])
    return torch.as_tensor(np.stack([reference(lab.numpy(), tuple(grid), stride, mode, **kw)
                                     for lab in labels]))


# -- the helper ------------------------------------------------------------------------------------
@pytest.mark.parametrize('mode', ['nearest', 'ratio'])
@pytest.mark.parametrize('stride', [8, 16, 32])
@pytest.mark.parametrize('size', [512, 713, 769, 1025])
def test_labels_match_the_literal_reference(size, stride, mode):
    block = (5, 7) if size == 512 else (11, 13)
    labels = blocky((size, size - 64), seed=size + stride, block=block)
    grid = (resnet_grid(size, stride), resnet_grid(size - 64, stride))
    out = labels_to_grid(torch.as_tensor(labels)[None], grid, mode, 0.75, NUM_CLASSES)
    expected = reference(labels, grid, stride, mode)
    assert out.shape == (1, *grid)
    assert np.array_equal(out[0].numpy(), expected)


@pytest.mark.parametrize('size', [713, 1025])
def test_cell_means_match_the_literal_reference(size):
    weight = torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(0))
    grid = (resnet_grid(size, 16), ) * 2
    out = labels_to_grid(weight, grid, 'mean')
    expected = reference(weight[0, 0].double().numpy(), grid, 16, 'mean')
    np.testing.assert_allclose(out[0, 0].numpy(), expected, rtol=1e-5)


def test_divisible_size_cells_are_centred_on_the_feature_positions():
    """At 16 pixels and stride 4: centres 0, 4, 8, 12; cells [0,2) [2,6) [6,10) [10,16)."""
    labels = torch.arange(16).repeat(16, 1)[None]  # label = column
    assert labels_to_grid(labels, (4, 4))[0, 0].tolist() == [0, 4, 8, 12]
    one_hot = F.one_hot(torch.arange(16), 16).float()  # weight of column c in map c
    cells = labels_to_grid(one_hot.t()[:, None].expand(16, 16, 16), (4, 4), 'mean')[:, 0]
    assert cells.argmax(1).tolist() == [0] * 2 + [1] * 4 + [2] * 4 + [3] * 6


@pytest.mark.parametrize('size', [(713, 769), (1025, 512)])
def test_pixels_take_their_cells_value(size):
    grid = (resnet_grid(size[0], 8), resnet_grid(size[1], 8))
    values = torch.arange(grid[0] * grid[1]).view(1, *grid)
    pixels = cells_to_pixels(values, size)
    assert torch.equal(pixels, ref_pixels(values, size))
    assert torch.equal(labels_to_grid(pixels, grid), values)  # the centres' own cells
    assert torch.equal(labels_to_grid(pixels, grid, 'ratio', 1.0, grid[0] * grid[1]), values)


def test_bad_modes_and_grids_are_named():
    labels = torch.zeros(1, 45, 53, dtype=torch.long)
    with pytest.raises(ValueError, match="'nearest', 'ratio' or 'mean', got 'majority'"):
        labels_to_grid(labels, (6, 7), 'majority')
    with pytest.raises(ValueError, match='needs num_classes'):
        labels_to_grid(labels, (6, 7), 'ratio')
    with pytest.raises(ValueError, match='pass stride='):
        labels_to_grid(labels, (5, 7))  # no stride s gives ⌈45/s⌉ = 5
    assert labels_to_grid(labels, (5, 7), stride=8).shape == (1, 5, 7)


def centre_geometry(layers):
    """(total stride, centre of position 0) of a chain of (kernel, stride, padding, dilation)."""
    total, offset = 1, 0.
    for k, s, p, d in layers:
        offset += total * (d * (k - 1) / 2 - p)  # output j sits on input s·j − p + d(k − 1)/2
        total *= s
    return total, offset


def chain(backbone, skip):
    def pair(v):
        return v[0] if isinstance(v, tuple) else v
    return [(pair(m.kernel_size), pair(m.stride), pair(m.padding), pair(m.dilation))
            for n, m in backbone.named_modules()
            if isinstance(m, (torch.nn.Conv2d, torch.nn.MaxPool2d))
            and not skip & set(n.split('.'))]


def test_real_networks_put_position_j_on_pixel_s_j():
    """ResNetV1c-18 (DeepLabV2 dilations, stride 8) gives 90x90 at 713 and MiT ⌈713/s⌉ per stage;
    composing their layers' conv arithmetic gives stride s and offset 0 (the helper's c = 0)."""
    resnet = MODELS.build(dict(type='ResNetV1c', depth=18, stem_channels=4, base_channels=4,
                               dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                               contract_dilation=True))
    mit = MODELS.build(dict(type='MixVisionTransformer', in_channels=3, embed_dims=4,
                            num_stages=4, num_layers=[1, 1, 1, 1], num_heads=[1, 1, 1, 1],
                            sr_ratios=[8, 4, 2, 1]))
    resnet.eval()  # (ResNet.train returns None)
    mit.eval()
    with torch.no_grad():
        x = torch.randn(1, 3, 713, 713)
        assert resnet(x)[-1].shape[-2:] == (90, 90)
        assert [f.shape[-1] for f in mit(x)] == [179, 90, 45, 23]
    assert centre_geometry(chain(resnet, {'downsample'})) == (8, 0)
    stages = [chain(mit.layers[i][0], set()) for i in range(4)]  # the patch embeddings
    assert [centre_geometry(sum(stages[:i + 1], []))[0] for i in range(4)] == [4, 8, 16, 32]
    assert all(centre_geometry(sum(stages[:i + 1], []))[1] == 0 for i in range(4))
    ffn = chain(mit.layers[0][1], {'sr'})  # the Mix-FFN's depthwise 3x3 keeps the centre
    assert ffn and centre_geometry(ffn) == (1, 0)
    for stride, grid in ((8, 90), (32, 23)):
        labels = torch.as_tensor(blocky((713, 713)))[None]
        out = labels_to_grid(labels, (grid, grid), 'ratio', num_classes=NUM_CLASSES)
        assert np.array_equal(out[0].numpy(), reference(labels[0].numpy(), (grid, grid),
                                                        stride, 'ratio'))


# -- every method's label-grid step at crops the stride does not divide ------------------------------
CROP = (45, 53)  # tiny ResNetV1c at stride 8: a 6x7 grid, cells [8j − 4, 8j + 4)


def labels_at(size, b=2, seed=0, block=(5, 7)):
    return torch.as_tensor(np.stack([blocky(size, seed + i, block) for i in range(b)]))


def test_clda_contrast_labels_and_weights():
    contrast = DomainContrast(NUM_CLASSES, dim=4)
    labels = labels_at((713, 713), b=1, block=(11, 13))
    omega = torch.rand(1, 1, 713, 713)
    _, y, w = contrast.cells(torch.randn(1, 4, 90, 90), labels, weight=omega)
    assert torch.equal(y, ref_batch(labels, (90, 90), 'ratio').flatten())
    expected = reference(omega[0, 0].double().numpy(), (90, 90), 8, 'mean')
    np.testing.assert_allclose(w.numpy(), expected.ravel(), rtol=1e-5)


def test_clda_label_expansion_puts_cell_labels_on_their_pixels():
    g = torch.Generator().manual_seed(0)
    labels = labels_at((713, 713), b=1, block=(11, 13))
    confident = torch.rand(1, 713, 713, generator=g) < 0.5
    nearest = torch.randint(0, NUM_CLASSES, (1, 90, 90), generator=g)
    within = torch.rand(1, 90, 90, generator=g) < 0.5
    out, expanded = LabelExpansion.expand(labels, confident, nearest, within)
    expected = ref_pixels(within, (713, 713)) & ~confident
    assert torch.equal(expanded, expected)
    assert torch.equal(out, torch.where(expected, ref_pixels(nearest, (713, 713)), labels))


def test_dacs_feature_distance_mask():
    torch.manual_seed(0)
    model = build_dacs(imnet_feature_dist=dict(classes=(1, 2), lambda_=1.0))
    x = torch.randn(1, 3, *CROP)
    feat = torch.rand(1, 64, 6, 7) + 1
    labels = labels_at(CROP, b=1)
    loss = model.feature_distance(x, feat, labels)
    with torch.no_grad():
        d = torch.norm(feat - model.imnet.extract_feat(x)[-1], dim=1)
    mask = torch.isin(ref_batch(labels, (6, 7), 'ratio'), torch.tensor([1, 2]))
    assert 0 < mask.sum() < mask.numel()
    torch.testing.assert_close(loss, (d * mask).sum() / mask.sum())


def run_extra_losses(model, loss_key, seed=0):
    """The method's extra-loss step on CROP-sized tensors; returns what it fed its forward."""
    g = torch.Generator().manual_seed(seed)
    src, tgt = (torch.randn(2, 3, *CROP, generator=g) for _ in range(2))
    src_label = labels_at(CROP, seed=seed)
    with torch.no_grad():
        feats = model.teacher_model.extract_feat(tgt)
    probs = torch.rand(2, NUM_CLASSES, *CROP, generator=g).softmax(1)
    seen = {}
    weight = next(model.student.parameters())

    def forward(inputs, data_samples, mode, **kw):
        seen.update(kw, inputs=inputs)
        return {loss_key: weight.sum() * 0}
    optim = OptimWrapper(torch.optim.SGD(model.student.parameters(), lr=0.01))
    model.extra_losses(src, tgt, src_label, dict(feats=feats, probs=probs), optim, forward)
    mean_probs = torch.stack([torch.as_tensor(np.stack([
        reference(p.double().numpy(), (6, 7), 8, 'mean') for p in img])) for img in probs])
    seen.update(src=src, tgt=tgt)
    return seen, src_label, mean_probs.max(1)


def test_rccr_cut_labels():
    torch.manual_seed(0)
    seen, src_label, (conf, label_t) = run_extra_losses(build_rccr(cut_aug=False), 'loss_rwc')
    assert torch.equal(seen['label_t'], label_t)
    torch.testing.assert_close(seen['conf'].double(), conf, rtol=1e-5, atol=0)
    expected = torch.where(seen['square'], label_t, ref_batch(src_label, (6, 7)))
    assert torch.equal(seen['label_cut'], expected)
    # the CutMix image pastes the target on the pixels of the square's cells
    pasted = ref_pixels(seen['square'], CROP)[:, None]
    assert pasted.any() and not pasted.all()
    assert torch.equal(seen['inputs'], torch.where(pasted, seen['tgt'], seen['src']))


@pytest.mark.parametrize('mode', ['nearest', 'ratio'])
def test_t2sda_source_labels_and_target_keys(mode):
    torch.manual_seed(0)
    model = build_t2sda(label_grid=dict(mode=mode, min_ratio=0.75))
    seen, src_label, (conf, pseudo) = run_extra_losses(model, 'loss_pull')
    assert torch.equal(seen['labels'], ref_batch(src_label, (6, 7), mode))
    assert torch.equal(seen['tgt_labels'], pseudo.flatten())


def test_sdca_pixel_labels():
    labels = labels_at((713, 769), b=1, block=(11, 13))
    _, y = flatten(torch.randn(1, 3, 90, 97), labels)
    assert torch.equal(y, ref_batch(labels, (90, 97)).flatten())


def test_confeti_prototype_and_pcl_labels():
    torch.manual_seed(0)
    model = build_confeti(prototypes=dict(top_n=4, cam_start_iter=5, resolution='feature'))
    seen = []
    model.prototypes.update = lambda v, label, cams: seen.append(label)
    labels = labels_at(CROP)
    mask = labels_at(CROP, seed=7) < 2
    model.iter = 6  # after cam_start_iter: every pixel of Y^M
    model.update_prototypes(torch.randn(2, 3, *CROP), labels, mask)
    model.iter = 5  # until then: source-pasted pixels only
    model.update_prototypes(torch.randn(2, 3, *CROP), labels, mask)
    expected = ref_batch(labels, (6, 7))
    assert torch.equal(seen[0], expected)
    assert torch.equal(seen[1], torch.where(ref_batch(mask.long(), (6, 7)).bool(), expected,
                                            IGNORE))
    labels = labels_at((769, 769), b=1, block=(11, 13))
    _, y = _columns_and_labels(torch.randn(1, 4, 97, 97), labels, 'pcl')
    assert torch.equal(y, ref_batch(labels, (97, 97)).flatten(1))
