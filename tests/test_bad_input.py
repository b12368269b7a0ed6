"""Bad input, one case per test: a clear error naming the file, key or value at fault, or correct
handling; and a work dir that a crash or a NaN never leaves with a half-written checkpoint."""
import glob
import math
import os
import os.path as osp
import re
import subprocess
import sys
import uuid

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from conftest import REPO, write_pairs
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from mmseg.registry import DATASETS, MODELS
from test_dacs import build_dacs, optim, paired_batch, tiny_segmentor
from test_tools import DEMO, tiny_options

from mmseg_uda.compat import load_state_dict_checked
from mmseg_uda.datasets import CamVidDataset, UDADataset
from mmseg_uda.engine import ClassCountCheckHook, check_checkpoint_paths

LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
        dict(type='ValidateSegLabel'), dict(type='PackSegInputs')]
TGT = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
TRAIN = osp.join(REPO, 'tools', 'train.py')
DACS_DEMO = osp.join(REPO, 'configs', 'demo', 'dacs_toy_shift.py')


def camvid(root, pipeline=LOAD, **kwargs):
    """An 11-class CamVidDataset (one of ours: checked at build and per sample) on ``root``."""
    kwargs.setdefault('data_prefix', dict(img_path='images', seg_map_path='labels'))
    return DATASETS.build(dict(type='CamVidDataset', data_root=str(root), pipeline=pipeline,
                               **kwargs))


def plain_target(root):
    """A target set as a plain mmseg dataset (no checks of ours), unlabelled."""
    return dict(type='BaseSegDataset', data_root=str(root), img_suffix='.png',
                metainfo=dict(classes=CamVidDataset.METAINFO['classes']), data_prefix=dict(img_path='images'),
                pipeline=TGT)


def source_cfg(root):
    return dict(type='CamVidDataset', data_root=str(root), pipeline=LOAD,
                data_prefix=dict(img_path='images', seg_map_path='labels'))


def fail(cmd, cwd):
    """Run a tool that must fail; return its stderr."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert proc.returncode != 0, proc.stdout[-3000:]
    return proc.stderr


# -- data: folders and files ------------------------------------------------------------------
def test_missing_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match=f'data_root {tmp_path / "nowhere"} does not exist'):
        camvid(tmp_path / 'nowhere')


def test_missing_image_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=f'image folder {tmp_path}/images does not exist'):
        camvid(tmp_path)


def test_no_image_with_the_suffix(tmp_path):
    write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)], img_suffix='.jpg')
    with pytest.raises(ValueError, match=rf"no images found in {tmp_path}/images with suffix '\.png'"):
        camvid(tmp_path)


def test_label_file_missing(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)] * 2)
    os.remove(paths[1][1])
    with pytest.raises(FileNotFoundError, match=f'{paths[1][0]} has no label file {paths[1][1]}'):
        camvid(tmp_path)


@pytest.mark.parametrize('folder', ['empty', 'missing'])
def test_target_set_without_images(tmp_path, folder):
    write_pairs(tmp_path / 'src', [np.zeros((8, 8), np.uint8)])
    tgt = tmp_path / 'tgt'
    if folder == 'empty':
        (tgt / 'images').mkdir(parents=True)
        error, msg = ValueError, f'no images found in {tgt}/images'
    else:
        tgt.mkdir()
        error, msg = FileNotFoundError, f'image folder {tgt}/images does not exist'
    with pytest.raises(error, match=msg):
        UDADataset(source_cfg(tmp_path / 'src'), plain_target(tgt))


# -- data: label values and formats -----------------------------------------------------------
def test_label_ids_outside_the_classes(tmp_path):
    paths = write_pairs(tmp_path, [np.array([[0, 1], [11, 42]], np.uint8)])
    with pytest.raises(ValueError, match=rf'label {paths[0][1]} of image {paths[0][0]}: label '
                                         r'values \[42\] are outside the class range 0\.\.10'):
        camvid(tmp_path)[0]  # 11 is CamVid's void (-> ignore), 42 is no class


def test_16bit_label_with_values_above_255(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((4, 4), np.uint8)])
    label = np.zeros((4, 4), np.uint16)
    label[0, :2] = (259, 1000)  # LoadAnnotations' uint8 cast would make 259 class 3, silently
    cv2.imwrite(paths[0][1], label)
    with pytest.raises(ValueError, match=rf'label {paths[0][1]} .*16-bit PNG with values '
                                         r'\[259, 1000\] above 255'):
        camvid(tmp_path)[0]


def test_16bit_label_within_8_bits_loads_exactly(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((4, 4), np.uint8)])
    label = np.array([[0, 1, 2, 255]] * 4, np.uint16)
    cv2.imwrite(paths[0][1], label)
    assert cv2.imread(paths[0][1], cv2.IMREAD_UNCHANGED).dtype == np.uint16
    loaded = camvid(tmp_path)[0]['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(loaded, label)


def test_16bit_label_in_the_class_statistics_pass(tmp_path):
    """Rare-class sampling counts classes with LoadAnnotations too: the same check applies."""
    write_pairs(tmp_path / 'tgt', [np.zeros((8, 8), np.uint8)])
    paths = write_pairs(tmp_path / 'src', [np.zeros((8, 8), np.uint8)])
    cv2.imwrite(paths[0][1], np.full((8, 8), 300, np.uint16))
    with pytest.raises(ValueError, match=rf'label {paths[0][1]}.*values \[300\] above 255'):
        UDADataset(source_cfg(tmp_path / 'src'), plain_target(tmp_path / 'tgt'),
                   rare_class_sampling=dict(min_pixels=1))


def test_label_size_differs_from_image(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)])
    cv2.imwrite(paths[0][1], np.zeros((6, 8), np.uint8))
    with pytest.raises(ValueError, match=rf'label {paths[0][1]} .*label size \(6, 8\) differs '
                                         r'from image size \(8, 8\)'):
        camvid(tmp_path)[0]


@pytest.mark.parametrize('where', ['dataset', 'uda_source'])
def test_empty_class_set(tmp_path, where):
    """mmseg would map every label to the ignore index and train on nothing."""
    write_pairs(tmp_path / 'src', [np.zeros((8, 8), np.uint8)])
    if where == 'dataset':
        with pytest.raises(ValueError, match=r'CamVidDataset: metainfo.classes is empty \(\(\)\)'):
            camvid(tmp_path / 'src', metainfo=dict(classes=()))
    else:
        src = dict(plain_target(tmp_path / 'src'), metainfo=dict(classes=[]), pipeline=LOAD,
                   data_prefix=dict(img_path='images', seg_map_path='labels'))
        with pytest.raises(ValueError, match=r'BaseSegDataset: metainfo.classes is empty'):
            UDADataset(src, plain_target(tmp_path / 'src'))


# -- data: images -----------------------------------------------------------------------------
@pytest.mark.parametrize('damage', ['truncated', 'garbage', 'empty'])
def test_corrupt_image_names_the_file(tmp_path, damage):
    paths = write_pairs(tmp_path, [np.zeros((16, 16), np.uint8)] * 2)
    img = paths[1][0]
    data = open(img, 'rb').read()
    with open(img, 'wb') as f:
        f.write({'truncated': data[:60], 'garbage': b'not an image', 'empty': b''}[damage])
    with pytest.raises(RuntimeError, match=f'CamVidDataset: cannot load sample 1, image {img} '
                                           f'\\(label {paths[1][1]}\\)'):
        camvid(tmp_path)[1]


def test_corrupt_target_image_of_a_plain_mmseg_dataset(tmp_path):
    """The UDA layer names the file for any mmseg dataset (here the target)."""
    write_pairs(tmp_path / 'src', [np.zeros((8, 8), np.uint8)])
    paths = write_pairs(tmp_path / 'tgt', [np.zeros((8, 8), np.uint8)])
    with open(paths[0][0], 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n broken')
    ds = UDADataset(source_cfg(tmp_path / 'src'), plain_target(tmp_path / 'tgt'))
    with pytest.raises(RuntimeError, match=f'BaseSegDataset: cannot load sample 0, image '
                                           f'{paths[0][0]}: '):
        ds[0]


def test_grayscale_image_is_loaded_as_rgb(tmp_path):
    paths = write_pairs(tmp_path, [np.zeros((8, 8), np.uint8)])
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    cv2.imwrite(paths[0][0], gray)
    assert cv2.imread(paths[0][0], cv2.IMREAD_UNCHANGED).ndim == 2
    inputs = camvid(tmp_path)[0]['inputs']
    assert inputs.shape == (3, 8, 8)
    for c in range(3):
        np.testing.assert_array_equal(inputs[c].numpy(), gray)


def test_image_smaller_than_the_crop_is_padded(tmp_path):
    """RandomCrop keeps a smaller image whole; the preprocessor pads image and label to the crop
    size (label padding = ignore), so the batch has the configured shape."""
    label = np.random.default_rng(0).integers(0, 11, (12, 20)).astype(np.uint8)
    write_pairs(tmp_path, [label])
    ds = camvid(tmp_path, pipeline=LOAD[:3] + [dict(type='RandomCrop', crop_size=(32, 32)),
                                               LOAD[3]])
    pre = MODELS.build(dict(type='UDADataPreProcessor', mean=[0.] * 3, std=[1.] * 3,
                            size=(32, 32), seg_pad_val=255))
    out = pre(pseudo_collate([ds[0]]), training=True)
    assert out['inputs'].shape == (1, 3, 32, 32)
    gt = out['data_samples'][0].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt[:12, :20], label)
    assert (gt[12:] == 255).all() and (gt[:, 20:] == 255).all()


# -- data preprocessor ----------------------------------------------------------------------------
@pytest.mark.parametrize('value', [float('nan'), float('inf')])
@pytest.mark.parametrize('paired', [True, False])
def test_non_finite_input_names_the_images(value, paired):
    pre = MODELS.build(dict(type='UDADataPreProcessor', mean=[0.] * 3, std=[1.] * 3,
                            size=(32, 32)))
    batch = paired_batch(b=3)
    for branch in ('source', 'target'):
        batch[branch]['inputs'] = [x.float() for x in batch[branch]['inputs']]
        for i, ds in enumerate(batch[branch]['data_samples']):
            ds.set_metainfo(dict(img_path=f'{branch}/{i}.png'))
    batch['target']['inputs'][1][0, 3, 5] = value
    branch = 'target batch' if paired else 'batch'
    with pytest.raises(ValueError, match=rf"non-finite \(NaN/Inf\) input in the {branch}: "
                                         r"\['target/1.png'\]"):
        pre(batch if paired else batch['target'], training=True)


def test_zero_std_in_the_preprocessor():
    with pytest.raises(ValueError, match=r'data_preprocessor.std must not hold a zero, got '
                                         r'\[1.0, 0.0, 1.0\]'):
        MODELS.build(dict(type='UDADataPreProcessor', mean=[0.] * 3, std=[1., 0., 1.]))


# -- model and training ---------------------------------------------------------------------------
def _build(method):
    if method == 'dacs':
        return build_dacs(), optim
    if method == 't2sda':
        from test_t2sda import build_t2sda
        return build_t2sda(), optim
    from test_confeti import build_confeti
    from test_confeti import optim as confeti_optim
    return build_confeti(), confeti_optim


@pytest.mark.parametrize('method', ['dacs', 't2sda', 'confeti'])
def test_batch_of_one_trains_with_finite_losses(method):
    torch.manual_seed(0)
    model, make_optim = _build(method)
    before = model.student.decode_head.conv_seg.weight.detach().clone()
    log_vars = model.train_step(paired_batch(b=1), make_optim(model))
    losses = {k: float(v) for k, v in log_vars.items() if 'loss' in k}
    assert 'src.decode.loss_ce' in losses and 'mix.decode.loss_ce' in losses
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert not torch.equal(before, model.student.decode_head.conv_seg.weight)


def test_source_batch_without_any_labelled_pixel():
    """An empty class set in a batch (every label ignore) gives zero, finite source losses."""
    torch.manual_seed(0)
    model = build_dacs()
    batch = paired_batch(b=1)
    batch['source']['data_samples'][0].gt_sem_seg.data[:] = 255
    log_vars = model.train_step(batch, optim(model))
    assert float(log_vars['src.decode.loss_ce']) == 0
    assert all(math.isfinite(float(v)) for v in log_vars.values())


def test_bad_segmentor_config_value():
    with pytest.raises(ValueError, match="pseudo_weight_scope must be 'batch' or 'image'.*'pixel'"):
        build_dacs(pseudo_weight_scope='pixel')


@pytest.mark.parametrize('dataset_classes', [4, 7, 3])
def test_head_and_dataset_class_counts(dataset_classes, monkeypatch):
    """Fewer head outputs than classes: an error (the loss would crash on the labels); more: a
    warning (it trains, the IoU metric ignores those predictions)."""
    from types import SimpleNamespace

    from mmseg_uda.engine.hooks import class_count_check_hook
    ds = SimpleNamespace(metainfo=dict(classes=tuple(range(dataset_classes))))
    runner = SimpleNamespace(model=build_dacs(), _train_loop=SimpleNamespace(
        dataloader=SimpleNamespace(dataset=ds)), _val_loop=None, _test_loop=dict())
    logged = []
    monkeypatch.setattr(class_count_check_hook, 'print_log', lambda msg, **kw: logged.append(msg))
    msg = (rf'model.segmentor.decode_head.num_classes = 4, but train_dataloader.dataset '
           rf'\(SimpleNamespace\) has {dataset_classes} classes')
    if dataset_classes > 4:
        with pytest.raises(ValueError, match=msg):
            ClassCountCheckHook().before_run(runner)
        return
    ClassCountCheckHook().before_run(runner)
    assert len(logged) == (dataset_classes < 4)
    assert all(re.match(msg, m) for m in logged)


# -- checkpoints: loading -------------------------------------------------------------------------
def _save(tmp_path, name, state):
    path = str(tmp_path / name)
    torch.save(dict(state_dict=state, meta=dict()), path)
    return path


def test_checkpoint_with_another_num_classes(tmp_path):
    seg = tiny_segmentor()
    seg['decode_head']['num_classes'] = 19
    path = _save(tmp_path, 'plain19.pth', MODELS.build(seg).state_dict())
    with pytest.raises(RuntimeError, match=rf'checkpoint {path} does not fit the DACS model: size '
                                           r'mismatch for student.decode_head.conv_seg.weight: '
                                           r'.*\[19, 16, 1, 1\].*\[4, 16, 1, 1\]'):
        load_state_dict_checked(build_dacs(), torch.load(path, weights_only=False), path)


def test_uda_checkpoint_into_a_plain_segmentor(tmp_path):
    path = _save(tmp_path, 'dacs.pth', build_dacs().state_dict())
    model = MODELS.build(tiny_segmentor())
    with pytest.raises(RuntimeError, match=rf"checkpoint {path} fits no parameter of the "
                                           r"EncoderDecoder model: its keys start with "
                                           r"\[.*'student', 'teacher'\]"):
        load_state_dict_checked(model, torch.load(path, weights_only=False), path)


def test_checkpoint_with_part_of_the_network(tmp_path):
    state = {k: v for k, v in build_dacs().state_dict().items() if not k.startswith('teacher.')}
    path = _save(tmp_path, 'student_only.pth', state)
    with pytest.raises(RuntimeError, match=rf'checkpoint {path} holds only part of the DACS '
                                           r'network: \d+ of \d+ tensors missing, e.g. '
                                           r"\['teacher.module.backbone"):
        load_state_dict_checked(build_dacs(), torch.load(path, weights_only=False), path)


def test_confeti_checkpoint_initialises_dacs(tmp_path):
    """Another method's checkpoint with the same network loads it fully (its extra modules are
    named in a warning, not loaded)."""
    from test_confeti import build_confeti
    torch.manual_seed(1)
    confeti = build_confeti()
    path = _save(tmp_path, 'confeti.pth', confeti.state_dict())
    dacs = build_dacs()
    load_state_dict_checked(dacs, torch.load(path, weights_only=False), path)
    student = confeti.student.state_dict()
    for k, v in dacs.student.state_dict().items():
        assert torch.equal(student[k], v), k
        assert torch.equal(dacs.teacher_model.state_dict()[k], v), k


def test_plain_segmentor_checkpoint_warm_starts_confeti(tmp_path):
    """The demo's warm start: a source-only checkpoint into a method with extra student heads
    (CONFETI's CAM head) loads the network; the extra heads keep their initialisation."""
    from test_confeti import build_confeti
    plain = MODELS.build(tiny_segmentor())
    path = _save(tmp_path, 'source_only.pth', plain.state_dict())
    confeti = build_confeti()
    load_state_dict_checked(confeti, torch.load(path, weights_only=False), path)
    for k, v in plain.state_dict().items():
        assert torch.equal(confeti.student.state_dict()[k], v), k
        assert torch.equal(confeti.teacher_model.state_dict()[k], v), k


def test_truncated_checkpoint_names_the_file(tmp_path):
    path = _save(tmp_path, 'iter_2.pth', build_dacs().state_dict())
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(RuntimeError, match=rf'checkpoint file {path} \(\d+ bytes\) cannot be read: '
                                           'it is truncated or not a torch checkpoint'):
        _load_checkpoint(path, map_location='cpu')


def test_missing_load_from_and_dangling_last_checkpoint(tmp_path):
    cfg = Config(dict(work_dir=str(tmp_path), load_from=str(tmp_path / 'nope.pth')))
    with pytest.raises(FileNotFoundError, match=f'load_from: checkpoint {tmp_path}/nope.pth does '
                                                'not exist'):
        check_checkpoint_paths(cfg, resume=False)
    check_checkpoint_paths(Config(dict(work_dir=str(tmp_path), load_from='https://x/y.pth')), False)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_8.pth'))
    with pytest.raises(FileNotFoundError, match=rf"--resume: {tmp_path}/last_checkpoint names "
                                                rf"checkpoint '{tmp_path}/iter_8.pth', which does "
                                                'not exist'):
        check_checkpoint_paths(cfg, resume=True)


# -- a tiny mmengine Runner: checkpoints written by the real CheckpointHook ------------------------
class ToyModel(BaseModel):
    """A linear model whose ``poison_at``-th loss is NaN."""

    def __init__(self, width=2, num_classes=None):
        super().__init__()
        self.linear = nn.Linear(width, 1)
        self.poison_at, self.calls = None, 0
        if num_classes is not None:
            self.decode_head = nn.Module()
            self.decode_head.num_classes = num_classes

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode != 'loss':
            return out
        self.calls += 1
        loss = out.pow(2).mean()
        return dict(loss=loss * float('nan') if self.calls == self.poison_at else loss)


class ToyDataset(torch.utils.data.Dataset):
    metainfo = dict(classes=('a', 'b'))

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), float(idx)))


def toy_runner(work_dir, iters, model=None, **kwargs):
    return Runner(
        model=model or ToyModel(), work_dir=str(work_dir), experiment_name=uuid.uuid4().hex,
        train_dataloader=dict(dataset=ToyDataset(), sampler=dict(type='InfiniteSampler'),
                              batch_size=2, num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1,
                                           max_keep_ckpts=1)),
        custom_hooks=[dict(type='FiniteLossHook'), dict(type='ClassCountCheckHook')],
        default_scope='mmseg', log_level='WARNING', **kwargs)


def checkpoints(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth*')) +
                  glob.glob(osp.join(work_dir, '.*.tmp')))


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return osp.basename(f.read().strip())


@pytest.mark.parametrize('crash', [OSError, KeyboardInterrupt])
def test_failed_checkpoint_write_leaves_the_previous_one(tmp_path, monkeypatch, crash):
    toy_runner(tmp_path, 2).train()
    assert checkpoints(tmp_path) == ['iter_2.pth'] and last_checkpoint(tmp_path) == 'iter_2.pth'
    # iteration 3's checkpoint fails after its bytes went to disk, before the rename (a full disk,
    # a kill); max_keep_ckpts=1 would have deleted iter_2.pth before writing iter_3.pth
    written = []

    def crash_in_write(fd):
        written.append(fd)
        raise crash('simulated crash while writing')
    monkeypatch.setattr(os, 'fsync', crash_in_write)
    with pytest.raises(crash, match='simulated crash'):
        toy_runner(tmp_path, 3, resume=True).train()
    assert written, 'the checkpoint write was not reached'
    assert checkpoints(tmp_path) == ['iter_2.pth'] and last_checkpoint(tmp_path) == 'iter_2.pth'
    torch.load(tmp_path / 'iter_2.pth', weights_only=False)  # intact
    monkeypatch.undo()
    runner = toy_runner(tmp_path, 3, resume=True)  # and the run resumes from it
    runner.train()
    assert runner.iter == 3
    assert checkpoints(tmp_path) == ['iter_3.pth'] and last_checkpoint(tmp_path) == 'iter_3.pth'


def test_non_finite_loss_stops_before_the_checkpoint(tmp_path):
    model = ToyModel()
    model.poison_at = 3
    with pytest.raises(RuntimeError, match=r"non-finite loss at iteration 3: \{'loss': nan\}.*"
                                           rf'last checkpoint: {tmp_path}/iter_2.pth'):
        toy_runner(tmp_path, 4, model=model).train()
    assert checkpoints(tmp_path) == ['iter_2.pth'] and last_checkpoint(tmp_path) == 'iter_2.pth'


def test_runner_load_from_another_model(tmp_path):
    path = _save(tmp_path, 'wide.pth', ToyModel(width=3).state_dict())
    with pytest.raises(RuntimeError, match=rf'checkpoint {path} does not fit the ToyModel model: '
                                           r'size mismatch for linear.weight'):
        toy_runner(tmp_path / 'work', 1, load_from=path).train()
    assert checkpoints(tmp_path / 'work') == []


def test_runner_checks_class_counts_before_training(tmp_path):
    with pytest.raises(ValueError, match=r'model.decode_head.num_classes = 1, but '
                                         r'train_dataloader.dataset \(ToyDataset\) has 2 classes'):
        toy_runner(tmp_path, 1, model=ToyModel(num_classes=1)).train()
    assert checkpoints(tmp_path) == []


# -- the tools, end to end (3 runs) ---------------------------------------------------------------
def test_train_tool_nan_loss_of_a_config_with_its_own_hooks(toy_root, tmp_path):
    """The DACS demo replaces custom_hooks; tools/train.py adds the guard anyway."""
    work = tmp_path / 'work'
    opts = tiny_options(toy_root, 2, 'model.segmentor.data_preprocessor',
                        ('train_dataloader.dataset.source', 'train_dataloader.dataset.target'),
                        **{'load_from': 'None', 'default_hooks.checkpoint.interval': 1,
                           'train_dataloader.dataset.rare_class_sampling.min_pixels': 20,
                           'model.segmentor.decode_head.loss_decode.loss_weight': 'nan'})
    err = fail([sys.executable, TRAIN, DACS_DEMO, '--work-dir', str(work)] + opts,
               cwd=str(tmp_path))
    assert "RuntimeError: non-finite loss at iteration 1: {'src.loss': nan, " \
           "'src.decode.loss_ce': nan" in err
    assert checkpoints(work) == [] and not osp.exists(work / 'last_checkpoint')


def test_train_tool_head_and_dataset_class_counts(toy_root, tmp_path):
    err = fail([sys.executable, TRAIN, DEMO, '--work-dir', str(tmp_path / 'work')]
               + tiny_options(toy_root, 2) + ['model.decode_head.num_classes=5'],
               cwd=str(tmp_path))
    assert 'ValueError: model.decode_head.num_classes = 5, but train_dataloader.dataset ' \
           '(ToyShiftDataset) has 7 classes' in err


def test_train_tool_resume_from_a_truncated_checkpoint(toy_root, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    path = str(work / 'iter_2.pth')
    with open(path, 'wb') as f:
        f.write(b'PK\x03\x04' + b'\0' * 200)  # a torch zip cut after its first bytes
    (work / 'last_checkpoint').write_text(path)
    err = fail([sys.executable, TRAIN, DEMO, '--work-dir', str(work), '--resume']
               + tiny_options(toy_root, 4), cwd=str(tmp_path))
    assert f'RuntimeError: checkpoint file {path} (204 bytes) cannot be read: it is truncated' \
        in err


def test_uda_segmentor_stops_before_the_step_on_a_non_finite_loss():
    """A NaN loss raises inside train_step, naming it, before the optimiser changes any weight."""
    torch.manual_seed(0)
    model = build_dacs()
    head = model.student.decode_head
    head.loss_decode.loss_weight = float('nan')
    before = [p.detach().clone() for p in model.student.parameters()]
    ow = optim(model)
    with pytest.raises(RuntimeError, match=r"non-finite loss at iteration 1: \{'src.loss': nan"):
        model.train_step(paired_batch(), ow)
    assert ow.calls['step'] == 0 and int(model.steps_done) == 0
    assert all(torch.equal(a, b) for a, b in zip(before, model.student.parameters()))
