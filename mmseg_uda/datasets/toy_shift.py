"""``toy_shift``: a small generated street-scene dataset with a source -> target domain shift.

Both domains draw their layouts from the same distribution (sky, buildings along the horizon, trees,
a perspective road with sidewalks, cars, thin poles). The source is rendered like a game engine
(flat, bright, saturated colours); the target like a dusk camera (other colours, colour cast, low
contrast, per-class textures, sensor noise and blur); or, with ``shift='night'`` / ``'fog'``, like a
night camera (exposure cut, street-light pools, colour cast, shot noise) or through fog (a depth-free
atmospheric scattering model). Layout::

    root/toy_shift.json                       # marker: generator version and arguments
    root/{source,target}/{train,val}/images/NNNN.png
    root/{source,target}/{train,val}/labels/NNNN.png   # class indices, 255 = ignore (ego vehicle)
"""
import json
import os
import os.path as osp
import shutil
import tempfile

import cv2
import numpy as np
from mmseg.registry import DATASETS

from .base import CheckedSegDataset

__all__ = ['ToyShiftDataset', 'generate_toy_shift', 'TOY_SHIFT_CLASSES']

TOY_SHIFT_VERSION = 1
MARKER = 'toy_shift.json'
DOMAINS = ('source', 'target')
SPLITS = ('train', 'val')
TOY_SHIFT_CLASSES = ('road', 'sidewalk', 'building', 'pole', 'vegetation', 'sky', 'car')
ROAD, SIDEWALK, BUILDING, POLE, VEGETATION, SKY, CAR = range(7)
IGNORE = 255

# Base colours (RGB). Source: bright, saturated, flat. Target: 60% source + 40% dusk colours
# (cars: 40% a random colour), then cast, darkened and flattened by the camera model.
SOURCE_COLORS = np.array([[150, 80, 160], [250, 140, 230], [200, 110, 70], [250, 230, 40],
                          [60, 190, 60], [90, 180, 250], [30, 50, 220]], np.float32)
DUSK_COLORS = np.array([[95, 92, 100], [125, 118, 112], [112, 104, 112], [45, 45, 50],
                        [72, 86, 52], [205, 140, 105], [0, 0, 0]], np.float32)
TARGET_MIX = 0.4


def _line_x(p0, p1, y):
    """x of the line through p0 and p1 at height y."""
    return p0[0] + (p1[0] - p0[0]) * (y - p0[1]) / (p1[1] - p0[1])


def _poly(img, pts, value):
    cv2.fillPoly(img, [np.round(np.asarray(pts)).astype(np.int32)], value)


def _layout(rng, h, w):
    """Random street layout: (labels uint8 HxW, instance ids int32 HxW, class of each instance)."""
    inst = np.zeros((h, w), np.int32)
    classes = [SKY]

    def add(cls):
        classes.append(cls)
        return len(classes) - 1

    yh = h * rng.uniform(0.38, 0.5)  # horizon
    vx = w * rng.uniform(0.35, 0.65)  # vanishing point
    # buildings: blocks along the horizon that extend down to the bottom (facades)
    x = -rng.uniform(0, 0.1) * w
    while x < w:
        bw = w * rng.uniform(0.08, 0.25)
        if rng.random() < 0.8:
            top = yh - h * rng.uniform(0.08, 0.38)
            cv2.rectangle(inst, (int(x), int(top)), (int(x + bw), h), add(BUILDING), -1)
        x += bw
    # sidewalk and road: nested perspective trapezoids meeting near the vanishing point
    half_road = w * rng.uniform(0.3, 0.6)
    half_walk = half_road + w * rng.uniform(0.1, 0.3)
    walk = [(vx - 0.03 * w, yh), (vx + 0.03 * w, yh), (vx + half_walk, h), (vx - half_walk, h)]
    road = [(vx - 0.01 * w, yh), (vx + 0.01 * w, yh), (vx + half_road, h), (vx - half_road, h)]
    _poly(inst, walk, add(SIDEWALK))
    _poly(inst, road, add(ROAD))
    # vegetation: tree canopies around the horizon and hedges beside the sidewalk
    for _ in range(rng.integers(1, 5)):
        c = (int(rng.uniform(0, w)), int(yh - h * rng.uniform(0.0, 0.2)))
        axes = (int(w * rng.uniform(0.04, 0.12)), int(h * rng.uniform(0.06, 0.16)))
        cv2.ellipse(inst, c, axes, 0, 0, 360, add(VEGETATION), -1)
    for side in (-1, 1):
        if rng.random() < 0.5:
            depth = w * rng.uniform(0.1, 0.3)
            outer = vx + side * (half_walk + depth)
            _poly(inst, [walk[1 if side > 0 else 0], (vx + side * 0.06 * w, yh),
                         (outer, h), walk[2 if side > 0 else 3]], add(VEGETATION))
    # cars: boxes on the road, scaled by depth, drawn far to near
    car_ys = np.sort(yh + (h - yh) * rng.uniform(0.15, 1.0, rng.integers(0, 5)))
    for yb in car_ys:
        s = (yb - yh) / (h - yh)
        cw = w * 0.22 * s + 4
        ch = cw * rng.uniform(0.45, 0.6)
        xl, xr = _line_x(road[0], road[3], yb), _line_x(road[1], road[2], yb)
        cx = rng.uniform(xl + cw / 2, max(xl + cw / 2, xr - cw / 2) + 1e-3)
        i = add(CAR)
        cv2.rectangle(inst, (int(cx - cw / 2), int(yb - 0.6 * ch)), (int(cx + cw / 2), int(yb)),
                      i, -1)
        cv2.rectangle(inst, (int(cx - cw / 3), int(yb - ch)), (int(cx + cw / 3), int(yb)), i, -1)
    # poles: thin bars standing on the sidewalk, some with a sign on top
    for _ in range(rng.integers(0, 4)):
        side = rng.choice([-1, 1])
        yb = yh + (h - yh) * rng.uniform(0.1, 0.8)
        s = (yb - yh) / (h - yh)
        edge = walk[2 if side > 0 else 3], road[2 if side > 0 else 3]
        x0 = 0.5 * (_line_x(walk[1 if side > 0 else 0], edge[0], yb)
                    + _line_x(road[1 if side > 0 else 0], edge[1], yb))
        pw = max(1, int(round(3 * s)))
        top = yh - (yb - yh) * rng.uniform(0.8, 1.6) - 4
        i = add(POLE)
        cv2.rectangle(inst, (int(x0), int(top)), (int(x0) + pw - 1, int(yb)), i, -1)
        if rng.random() < 0.5:
            r = pw + 1
            cv2.rectangle(inst, (int(x0) - r, int(top)), (int(x0) + r, int(top) + 2 * r), i, -1)
    labels = np.asarray(classes, np.uint8)[inst]
    # ego vehicle strip at the bottom: ignore
    labels[h - int(rng.integers(0, 6)):] = IGNORE
    return labels, inst, np.asarray(classes)


def _smooth_noise(rng, h, w, cell):
    """Low-frequency noise field (HxW, std ~1): a random grid upsampled bilinearly."""
    small = rng.standard_normal((h // cell + 2, w // cell + 2), np.float32)
    big = cv2.resize(small, ((w // cell + 2) * cell, (h // cell + 2) * cell))
    return big[cell:cell + h, cell:cell + w]


def _render_source(rng, labels, inst, classes):
    """Game-engine look: flat saturated colours, per-instance jitter, a little noise."""
    h, w = labels.shape
    colors = SOURCE_COLORS[classes] + rng.uniform(-15, 15, (len(classes), 3)).astype(np.float32)
    img = colors[inst]
    shade = rng.standard_normal((h, w), np.float32) * 3
    shade += (labels == SKY) * np.linspace(-15, 15, h, dtype=np.float32)[:, None]
    img += shade[..., None]
    img[labels == IGNORE] = (40, 40, 45)
    return img * np.float32(rng.uniform(0.85, 1.1))  # per-image lighting


def _target_scene(rng, labels, inst, classes):
    """The target world before the camera: other colours, per-class textures, lit windows."""
    h, w = labels.shape
    yy, xx = np.ogrid[:h, :w]
    dusk = DUSK_COLORS[classes] + rng.uniform(-12, 12, (len(classes), 3)).astype(np.float32)
    cars = classes == CAR
    dusk[cars] = rng.uniform(30, 200, (cars.sum(), 3))  # cars: any colour
    colors = (1 - TARGET_MIX) * SOURCE_COLORS[classes] + TARGET_MIX * dusk
    img = colors[inst]
    # grey-level textures per class
    tex = np.zeros((h, w), np.float32)
    sky = labels == SKY
    tex[sky] = (np.linspace(30, -30, h, dtype=np.float32)[:, None]
                + 12 * _smooth_noise(rng, h, w, 16))[sky]  # gradient and clouds
    veg = labels == VEGETATION
    tex[veg] = (35 * _smooth_noise(rng, h, w, 2) + 10 * _smooth_noise(rng, h, w, 8))[veg]
    road = labels == ROAD
    tex[road] = 8 * rng.standard_normal(road.sum(), np.float32)
    tiles = ((xx % 7) < 1) | ((yy % 4) < 1)
    tex[(labels == SIDEWALK) & tiles] = -25
    img += tex[..., None]
    # building: grid of windows, a random subset lit (yellow), the others dark
    px, py = rng.integers(5, 9, 2)
    win = (labels == BUILDING) & ((xx % px) < px // 2) & ((yy % py) < py // 2)
    lit = _smooth_noise(rng, h, w, 4) > 0.3
    img[win & lit] += np.array([60, 50, 10], np.float32)
    img[win & ~lit] -= 40
    # car: dark windows along the top of each box
    roof = (labels == CAR) & (np.roll(labels, 3, 0) != CAR)
    img[roof] *= 0.5
    img[labels == IGNORE] = (20, 20, 25)
    return img


def _vignette(h, w, strength):
    yy, xx = np.ogrid[:h, :w]
    return (1 - strength * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2))[..., None]


def _dusk_camera(rng, img):
    """Dusk: colour cast, darkened, low contrast, vignette, blur, sensor noise."""
    h, w = img.shape[:2]
    if rng.random() < 0.5:  # bluish
        cast = rng.uniform([0.8, 0.9, 1.05], [0.95, 1.0, 1.25])
    else:  # yellowish
        cast = rng.uniform([1.05, 0.95, 0.7], [1.2, 1.05, 0.85])
    img *= (cast * rng.uniform(0.7, 0.95)).astype(np.float32)
    mean = img.mean((0, 1))
    img = mean + (img - mean) * np.float32(rng.uniform(0.7, 0.9))
    img *= _vignette(h, w, 0.35).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.7, 1.3))
    img += rng.standard_normal(img.shape, np.float32) * 5
    return img


def _night_camera(rng, img):
    """Night: exposure cut to 6-12 %, a sodium (orange) or LED (cold) cast, a few small pools of
    street light, strong vignette, signal-dependent shot noise plus read noise, blur."""
    h, w = img.shape[:2]
    if rng.random() < 0.5:  # sodium street lights
        cast = rng.uniform([1.2, 0.95, 0.5], [1.4, 1.05, 0.7])
    else:  # LED / moonlight
        cast = rng.uniform([0.75, 0.9, 1.1], [0.9, 1.0, 1.35])
    light = np.full((h, w), rng.uniform(0.06, 0.12), np.float32)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    for _ in range(rng.integers(2, 5)):  # pools of light along the street
        cx, cy, r = rng.uniform(0, w), rng.uniform(0.35 * h, 0.8 * h), rng.uniform(0.04, 0.1) * w
        light += rng.uniform(0.3, 0.8) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
    img = img * light[..., None] * cast.astype(np.float32) * _vignette(h, w, 0.8)
    img = np.maximum(img, 0)
    img += rng.standard_normal(img.shape).astype(np.float32) * (0.9 * np.sqrt(img) + 2.5)
    return cv2.GaussianBlur(img.astype(np.float32), (0, 0), rng.uniform(0.6, 1.1))


def _fog_camera(rng, img):
    """Fog, a depth-free atmospheric scattering model: I = J·t + A·(1 − t), with one transmission
    t ~ U(0.25, 0.5) per image varied by ±15 % of patchy low-frequency noise (no depth map) and a
    grey-white airlight A; then blur and a little sensor noise."""
    h, w = img.shape[:2]
    t = rng.uniform(0.25, 0.5) * (1 + 0.15 * _smooth_noise(rng, h, w, 32))
    t = np.clip(t, 0.1, 0.9)[..., None]
    airlight = rng.uniform(185, 230) * rng.uniform(0.96, 1.04, 3)
    img = img * t + airlight.astype(np.float32) * (1 - t)
    img = cv2.GaussianBlur(img.astype(np.float32), (0, 0), rng.uniform(0.8, 1.5))
    return img + rng.standard_normal(img.shape).astype(np.float32) * 2


# the target domain's camera: dusk (the default demo), or the adverse conditions of Cityscapes ->
# ACDC / Dark Zurich, to check the night and fog code paths on CPU without the real data
CAMERAS = dict(dusk=_dusk_camera, night=_night_camera, fog=_fog_camera)
SHIFTS = tuple(CAMERAS)


def _render_target(rng, labels, inst, classes, shift='dusk'):
    """The target scene seen by the ``shift`` camera."""
    return CAMERAS[shift](rng, _target_scene(rng, labels, inst, classes))


def _write_split(root, domain, split, num, size, seed, shift='dusk'):
    h, w = size
    img_dir, lbl_dir = (osp.join(root, domain, split, d) for d in ('images', 'labels'))
    os.makedirs(img_dir)
    os.makedirs(lbl_dir)
    for idx in range(num):
        rng = np.random.default_rng([seed, DOMAINS.index(domain), SPLITS.index(split), idx])
        labels, inst, classes = _layout(rng, h, w)
        img = _render_source(rng, labels, inst, classes) if domain == 'source' else \
            _render_target(rng, labels, inst, classes, shift)
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
        cv2.imwrite(osp.join(img_dir, f'{idx:04d}.png'), img[..., ::-1])
        cv2.imwrite(osp.join(lbl_dir, f'{idx:04d}.png'), labels)


def _check_marker(root, expected):
    path = osp.join(root, MARKER)
    if not osp.isfile(path):
        raise FileExistsError(f'toy_shift: folder {root} exists but has no {MARKER} marker; '
                              f'it is not a generated toy_shift dataset (remove it or pick '
                              f'another data_root)')
    with open(path) as f:
        found = json.load(f)
    if found != expected:
        raise ValueError(f'toy_shift: folder {root} holds a dataset generated with {found}, '
                         f'not {expected}; remove it or pick another data_root')


def _check_shift(root, shift):
    """Refuse a generated ``root`` whose marker names another target camera than ``shift``."""
    path = osp.join(root or '', MARKER)
    if osp.isfile(path):
        with open(path) as f:
            found = json.load(f).get('shift', 'dusk')
        if found != shift:
            raise ValueError(f'ToyShiftDataset: {root} was generated with shift={found!r}, not '
                             f'{shift!r}; use another data_root (e.g. data/toy_shift_{shift})')


def generate_toy_shift(root, num_train=200, num_val=50, size=(128, 256), seed=0, shift='dusk'):
    """Generate the toy_shift dataset under ``root`` (idempotent, safe under concurrency).

    ``shift`` is the target camera: 'dusk', 'night' or 'fog' (the source and the layouts are the
    same for all three). Does nothing if ``root`` already holds a dataset generated with the same
    arguments; raises ``ValueError`` if it holds one generated with other arguments and
    ``FileExistsError`` if it is a non-empty folder without marker. Returns ``root`` as an absolute
    path.
    """
    if shift not in SHIFTS:
        raise ValueError(f'toy_shift: shift must be one of {SHIFTS}, got {shift!r}')
    expected = dict(version=TOY_SHIFT_VERSION, num_train=int(num_train), num_val=int(num_val),
                    size=[int(s) for s in size], seed=int(seed))
    if shift != 'dusk':  # markers of dusk datasets (generated before shifts existed) stay valid
        expected['shift'] = shift
    root = osp.abspath(root)
    if osp.isdir(root) and os.listdir(root):
        _check_marker(root, expected)
        return root
    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.tmp', dir=parent)
    try:
        for domain in DOMAINS:
            for split, num in (('train', num_train), ('val', num_val)):
                _write_split(tmp, domain, split, num, expected['size'], seed, shift)
        with open(osp.join(tmp, MARKER), 'w') as f:
            json.dump(expected, f, indent=1)
        os.chmod(tmp, 0o755)
        try:
            os.rename(tmp, root)  # atomic; fails if another process filled root first
        except OSError:
            if not (osp.isdir(root) and os.listdir(root)):
                raise
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    _check_marker(root, expected)
    return root


@DATASETS.register_module()
class ToyShiftDataset(CheckedSegDataset):
    """One domain/split of the generated toy_shift dataset (generated on first use).

    Args:
        domain (str): 'source' or 'target'.
        split (str): 'train' or 'val'.
        with_labels (bool): False leaves out label paths (unlabelled target training set).
        generate (bool): generate the data with default arguments if ``data_root`` is missing.
        shift (str): the target camera of generated data ('dusk', 'night', 'fog'); a ``data_root``
            generated with another shift is refused.
    """
    METAINFO = dict(classes=TOY_SHIFT_CLASSES,
                    palette=[[128, 64, 128], [244, 35, 232], [70, 70, 70], [153, 153, 153],
                             [107, 142, 35], [70, 130, 180], [0, 0, 142]])

    def __init__(self, domain='source', split='train', data_root='data/toy_shift',
                 with_labels=True, generate=True, shift='dusk', **kwargs):
        if domain not in DOMAINS:
            raise ValueError(f'ToyShiftDataset: domain must be one of {DOMAINS}, got {domain!r}')
        if split not in SPLITS:
            raise ValueError(f'ToyShiftDataset: split must be one of {SPLITS}, got {split!r}')
        if shift not in SHIFTS:
            raise ValueError(f'ToyShiftDataset: shift must be one of {SHIFTS}, got {shift!r}')
        if generate and data_root and not osp.isdir(data_root):
            generate_toy_shift(data_root, shift=shift)
        _check_shift(data_root, shift)
        self.domain, self.split = domain, split
        prefix = dict(img_path=f'{domain}/{split}/images')
        if with_labels:
            prefix['seg_map_path'] = f'{domain}/{split}/labels'
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(data_root=data_root, data_prefix=prefix, **kwargs)
