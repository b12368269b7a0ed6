"""Every training config builds and runs one CPU iteration (and a validation) at small size; of
configs that differ in numbers only (:func:`structure`) one runs.

The config's own pipelines, model wiring, optimiser and schedule are used; only what cannot run in a
test is replaced: datasets become the generated toy shift (same transforms, crops 64x64, resizes to
64x128, FDA against the toy target), backbones shrink (ResNet-18 at width 16, one-layer MiT), and
pretrained weights are not loaded.
"""
import fnmatch
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from mmengine.runner import Runner
from mmseg.registry import MODELS


CONFIG_DIR = osp.join(REPO, 'configs')
SKIP_DIRS = ('_base_', )  # (pipeline files, e.g. CLDA's ablations, are tests/test_train_pipeline.py's)
# Configs that only add data or one module to a config that runs here, each checked elsewhere, run
# one representative (the test costs ~10 s per config on 2 cores):
# - Cityscapes -> ACDC / Dark Zurich: the model, optimiser, schedule and loop equal the method's
#   GTA5 config (tests/test_published_configs.py::test_adverse_configs_train_the_gta2cs_method) and
#   every dataset is built and read (tests/test_adverse_datasets.py): DACS on each target runs;
# - MIC variants: a method config plus model.masked_consistency, whose iteration each DACS-family
#   method runs in tests/test_mic.py (with HRDA: tests/test_hrda_uda.py): DAFormer + MIC runs;
# - the HRDA speed configs (benchmarks/hrda/dacs_*): DACS on HRDA, which configs/hrda/ run here.
REPRESENTED = ('*_cs2acdc*.py', '*_cs2darkzurich*.py', 'mic/*.py', 'hrda/hrda_mic_*.py',
               'benchmarks/hrda/dacs_*.py', 'benchmarks/camvid/*_mic.py')
REPRESENTATIVES = ('dacs/dacs_daformer-mitb5_cs2acdc.py', 'dacs/dacs_daformer-mitb5_cs2darkzurich.py',
                   'mic/mic_daformer-mitb5_gta2cs.py')


def _runs_here(rel):
    return rel in REPRESENTATIVES or not any(fnmatch.fnmatch(rel, p) for p in REPRESENTED)


def structure(node):
    """A config with every number replaced by its type (switches, modes, types and keys kept):
    configs of one structure differ in values only, which tests/test_published_configs.py pins,
    and run the same code here."""
    if isinstance(node, dict):
        return {k: structure(v) for k, v in node.items() if k not in ('data_root', 'work_dir')}
    if isinstance(node, (list, tuple)):
        return [structure(v) for v in node]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return type(node).__name__
    return node


def _configs():
    """The training configs, one per structure (the first in sorted order)."""
    runs = {}
    for p in sorted(glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)):
        rel = osp.relpath(p, CONFIG_DIR)
        if any(part in SKIP_DIRS for part in rel.split(osp.sep)) or not _runs_here(rel):
            continue
        cfg = Config.fromfile(p).to_dict()
        if 'stages' not in cfg:
            runs.setdefault(repr(structure(cfg)), rel)
    return sorted(runs.values())


CONFIGS = _configs()
CROP = (64, 64)  # a CLDA teacher scale of 0.5 still leaves MiT stage 1 an 8x8 map




def small_pipeline(pipeline, toy_root):
    out = []
    for t in pipeline:
        t = dict(t)
        if 'crop_size' in t:
            t['crop_size'] = CROP
        if t['type'] in ('Resize', 'RandomResize') and 'scale' in t:
            t['scale'] = (128, 64)
        if t['type'] == 'FDA':
            t['target_dir'] = osp.join(toy_root, 'target', 'train', 'images')
        out.append(t)
    return out


def toy_dataset(ds, toy_root, domain, split='train', with_labels=True):
    return dict(type='ToyShiftDataset', data_root=toy_root, domain=domain, split=split,
                with_labels=with_labels, pipeline=small_pipeline(ds['pipeline'], toy_root))


def no_pretrained(node):
    if isinstance(node, dict):
        return {k: (None if k == 'init_cfg' else no_pretrained(v)) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(no_pretrained(v) for v in node)
    return node


def shrink_network(seg, *feature_heads):
    """A small backbone, then the heads' input widths read from its outputs."""
    bb = seg['backbone']
    if bb['type'].startswith('ResNet'):
        bb.update(depth=18, stem_channels=16, base_channels=16)
    elif bb['type'] == 'MixVisionTransformer':
        bb.update(embed_dims=16, num_layers=[1, 1, 1, 1], num_heads=[1, 1, 1, 1])
    with torch.no_grad():
        widths = [f.shape[1] for f in MODELS.build(bb)(torch.zeros(1, 3, *CROP))]
    head = seg['decode_head']
    if head['type'] == 'HRDAHead':  # the shared head inside HRDA's
        head = head['head']
    index = head.get('in_index', -1)
    head['in_channels'] = [widths[i] for i in index] if isinstance(index, (list, tuple)) \
        else widths[index]
    if head['type'] == 'DAFormerHead':
        head.update(channels=16, embed_dims=16)
    for extra in feature_heads:  # projection / CAM heads on a backbone output
        extra['in_channels'] = widths[extra.get('in_index', -1)]


def small_config(path, toy_root, work_dir):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, path))
    cfg.pop('benchmark', None)
    model = no_pretrained(cfg.model.to_dict())
    seg = model.get('segmentor', model)
    translator = 'backbone' not in seg  # e.g. CONFETI's stage-0 CUTTranslator: no val metric
    if translator:  # narrow networks, the same layers
        seg['generator']['ngf'] = seg['discriminator']['ndf'] = 4
    else:
        shrink_network(seg, *[model[k] for k in ('projection_head', 'cam_head') if model.get(k)])
    style = model.get('style') or {}
    if style.get('type') == 'CUT':  # CONFETI's translator: narrow, the same layers, random init
        style['generator']['ngf'] = style['discriminator']['ndf'] = 4
        model['cut_checkpoint'] = None
        model['allow_random_style'] = True  # stage 2's frozen generator is random here
    if model.get('require_warm_start'):  # SDCA's adaptation: no warm-up checkpoint here
        model['require_warm_start'] = False
    seg['data_preprocessor']['size'] = CROP
    if seg['type'] == 'HRDAEncoderDecoder':  # detail crops inside the 64x64 context crops
        seg.update(detail_crop_size=(32, 32), detail_slide_stride=(16, 16))
    if seg.get('test_cfg', {}).get('mode') == 'slide':
        seg['test_cfg'].update(crop_size=CROP, stride=(48, 48))
    cfg.model = model
    train = cfg.train_dataloader.dataset
    if train['type'] == 'UDADataset':
        train['source'] = toy_dataset(train['source'], toy_root, 'source')
        train['target'] = toy_dataset(train['target'], toy_root, 'target', with_labels=False)
        if train.get('rare_class_sampling'):
            train['rare_class_sampling']['min_pixels'] = 20
    else:
        cfg.train_dataloader.dataset = toy_dataset(train, toy_root, 'source')
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    for hook in cfg.get('custom_hooks', []):  # e.g. the class statistics' pass over the source
        if 'dataloader' in hook:
            hook.dataloader.dataset = toy_dataset(hook.dataloader.dataset, toy_root, 'source')
            hook.dataloader.update(num_workers=0, persistent_workers=False)
    if translator:
        cfg.train_cfg.update(max_iters=1)
        cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=1)
        cfg.update(work_dir=work_dir, load_from=None, resume=False)
        return cfg
    val = cfg.get('val_dataloader') or cfg.test_dataloader  # (the CamVid benchmark has no val)
    val.dataset = toy_dataset(val.dataset, toy_root, 'target', 'val')
    val.update(num_workers=0, persistent_workers=False)
    cfg.val_dataloader = cfg.test_dataloader = val
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    cfg.val_cfg = cfg.get('val_cfg') or dict(type='ValLoop')
    cfg.val_evaluator = dict(type='UDAIoUMetric', iou_metrics=['mIoU'])
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=1)
    cfg.update(work_dir=work_dir, load_from=None, resume=False)
    return cfg


@pytest.mark.parametrize('path', CONFIGS)
def test_config_runs_one_cpu_iteration(path, toy_root, tmp_path, monkeypatch):
    # yapf formatting of the config text (logged, dumped, saved) is half the run time here
    monkeypatch.setattr('mmengine.config.config.FormatCode', lambda text, **kwargs: (text, True))
    torch.manual_seed(0)
    cfg = small_config(path, toy_root, str(tmp_path))
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    assert osp.isfile(osp.join(str(tmp_path), 'iter_1.pth'))
    losses = runner.message_hub.log_scalars
    values = [v.current() for k, v in losses.items() if k.startswith('train/') and 'loss' in k]
    assert values and all(torch.isfinite(torch.as_tensor(v)) for v in values), path
