"""The UDA segmentors end to end through the tools on tiny toy data: train, validate, save,
resume exactly (3 iterations + ``--resume`` + 3 against 6 uninterrupted)."""
import os.path as osp
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO, free_port
from test_tools import run, tiny_options


DACS_DEMO = osp.join(REPO, 'configs', 'demo', 'dacs_toy_shift.py')
CLDA_DEMO = osp.join(REPO, 'configs', 'demo', 'clda_toy_shift.py')
RCCR_DEMO = osp.join(REPO, 'configs', 'demo', 'rccr_toy_shift.py')
SDCA_DEMO = osp.join(REPO, 'configs', 'demo', 'sdca_toy_shift.py')
T2SDA_DEMO = osp.join(REPO, 'configs', 'demo', 't2sda_toy_shift.py')
CONFETI_DEMO = osp.join(REPO, 'configs', 'demo', 'confeti_toy_shift.py')
# A ResNetV1c-18 DeepLabV2 ("dlv2red") and a tiny MiT + DAFormer head, small enough for CPU tests.
MODELS = {
    'deeplabv2': """
model = dict(segmentor=dict(decode_head=dict(
    _delete_=True, type='DLV2Head', in_channels=256, in_index=3, dilations=(6, 12), num_classes=7,
    align_corners=False, loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))))
""",
    'daformer': """
model = dict(segmentor=dict(
    backbone=dict(_delete_=True, type='MixVisionTransformer', in_channels=3, embed_dims=16,
                  num_stages=4, num_layers=[1, 1, 1, 1], num_heads=[1, 1, 1, 1],
                  patch_sizes=[7, 3, 3, 3], sr_ratios=[8, 4, 2, 1], out_indices=(0, 1, 2, 3),
                  mlp_ratio=2, qkv_bias=True, drop_path_rate=0.1),
    decode_head=dict(_delete_=True, type='DAFormerHead', in_channels=[16, 16, 16, 16],
                     in_index=[0, 1, 2, 3], channels=16, embed_dims=16, num_classes=7,
                     fusion_dilations=(1, 2, 3, 4),
                     loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))))
""",
}
# per demo: --cfg-options that open every gate within 3 iterations ({root}: the toy data), and
# the losses each run must log from then on (the AMP runs of test_amp.py use the same)
ACTIVE = {
    'dacs': ([], {'src.decode.loss_ce', 'mix.decode.loss_ce', 'mix.pseudo_weight'}),
    'clda': (['model.ema.interval=2', 'model.pseudo_scales=(0.5,1.0)'],
             {'clda.src.decode.loss_ce', 'clda.tgt.decode.loss_ce', 'clda.loss_in_src',
              'clda.loss_in_tgt', 'clda.loss_cross'}),
    'rccr': (['model.region_contrast.confidence=0.0'],
             {'src.decode.loss_ce', 'mix.decode.loss_ce', 'cut.loss_rwc', 'cut.rwc'}),
    'sdca': (['custom_hooks.2.dataloader.dataset.data_root={root}', 'model.target_threshold=0.5',
              'model.require_warm_start=False'],  # (load_from=None: no warm-up here)
             {'sdca.src.decode.loss_ce', 'sdca.src.loss_lovasz', 'sdca.loss_feat_src',
              'sdca.loss_out_src', 'sdca.loss_feat_tgt', 'sdca.loss_out_tgt'}),
    't2sda': ([], {'src.decode.loss_ce', 'mix.decode.loss_ce', 'pull.loss_pull', 'pull.pull'}),
    'confeti': (['model.prototypes.cam_start_iter=1', 'model.pcl.start_iter=2',
                 'model.cam_loss.mixed_start_iter=1', 'model.pcl.num_samples=256'],
                {'src.decode.loss_ce', 'src.loss_cam', 'src.loss_pcl', 'src.loss_reg',
                 'cut.loss_d', 'cut.loss_g_gan', 'cut.loss_nce', 'cut.loss_nce_idt', 'cut.loss_sc',
                 'mix.decode.loss_ce', 'mix.loss_cam', 'mix.loss_pcl', 'tgt.loss_pcl'}),
}
LOSS_KEY = re.compile(r'loss|(?:src|mix|clda|cut|sdca|pull|tgt)\.[\w.]+')


def demo_options(method, root):
    """The gate-opening options of ``method`` (:data:`ACTIVE`) for the toy data at ``root``."""
    return [o.format(root=root) for o in ACTIVE[method][0]]


def options(root, iters):
    return tiny_options(root, iters, 'model.segmentor.data_preprocessor',
                        ('train_dataloader.dataset.source', 'train_dataloader.dataset.target'), **{
        'load_from': 'None', 'train_dataloader.num_workers': 1,
        'train_dataloader.dataset.rare_class_sampling.min_pixels': 20,
        'default_hooks.checkpoint.interval': 3, 'default_hooks.checkpoint.max_keep_ckpts': 3,
        'custom_hooks.1.interval': 2})


def losses_at(out, it, total):
    """{key: value as logged} of the losses of train iteration ``it`` of ``total``."""
    tag = f'Iter(train) [{it:>{len(str(total))}}/{total}]'  # mmengine pads the count
    line = [x for x in out.splitlines() if tag in x][-1]
    return {k: v for k, v in re.findall(r'([\w.]+): (\S+)', line) if LOSS_KEY.fullmatch(k)}


@pytest.mark.parametrize('model', sorted(MODELS))
def test_dacs_train_val_resume_is_exact(toy_root, tmp_path, model):
    """6 iterations vs 3 + ``--resume`` + 3: the losses logged at iterations 4, 5 and 6 agree."""
    config = tmp_path / f'dacs_{model}.py'
    config.write_text(f"_base_ = ['{DACS_DEMO}']\n" + MODELS[model])
    out, _, reference = resume_is_exact(str(config), toy_root, tmp_path)
    assert ACTIVE['dacs'][1] <= active(reference)
    # debug grid written by the visualisation hook at iterations 2, 4 and 6
    assert len(list(Path(tmp_path / 'straight').rglob('uda_debug_*.png'))) == 3


def resume_is_exact(config, toy_root, tmp_path, extra=(), iters=6, stop=3):
    """Train ``config`` ``iters`` iterations with validation, and ``stop`` + ``--resume`` +
    ``iters - stop`` (``extra`` options in both): every resumed iteration logs the same losses as
    the uninterrupted run. Returns both outputs and the reference losses by iteration."""
    train = [sys.executable, osp.join(REPO, 'tools', 'train.py'), config]
    straight = str(tmp_path / 'straight')
    out = run(train + ['--work-dir', straight] + options(toy_root, iters) + list(extra),
              cwd=str(tmp_path))
    assert 'mIoU' in out and osp.isfile(osp.join(straight, f'iter_{iters}.pth'))
    reference = {it: losses_at(out, it, iters) for it in range(stop + 1, iters + 1)}
    broken = str(tmp_path / 'broken')
    run(train + ['--work-dir', broken] + options(toy_root, stop) + list(extra), cwd=str(tmp_path))
    resumed = run(train + ['--work-dir', broken, '--resume'] + options(toy_root, iters)
                  + list(extra), cwd=str(tmp_path))
    assert f'resumed epoch: 0, iter: {stop}' in resumed
    assert f'Iter(train) [{stop}/{iters}]' not in resumed
    assert {it: losses_at(resumed, it, iters) for it in reference} == reference
    return out, resumed, reference


def active(reference):
    """The loss keys logged at every one of the compared iterations."""
    return set.intersection(*(set(losses) for losses in reference.values()))


def test_clda_train_val_resume_is_exact(toy_root, tmp_path):
    """3 iterations + resume + 3: the memories, the expansion window, the teacher (refreshed at the
    2nd iteration) and the random state come back from the checkpoint."""
    _, _, reference = resume_is_exact(CLDA_DEMO, toy_root, tmp_path,
                                      demo_options('clda', toy_root))
    assert ACTIVE['clda'][1] <= active(reference)


def test_rccr_train_val_resume_is_exact(toy_root, tmp_path):
    """3 iterations + resume + 3: the memory of the last 3 batches, the EMA projector, μ(t) (from
    the iteration count) and the random state (CutMix squares, NS(R) halves) come back."""
    _, _, reference = resume_is_exact(RCCR_DEMO, toy_root, tmp_path,
                                      demo_options('rccr', toy_root))
    assert ACTIVE['rccr'][1] <= active(reference)
    assert all(float(losses['cut.rwc']) > 0 for losses in reference.values())


def test_sdca_train_val_resume_is_exact(toy_root, tmp_path):
    """3 iterations + resume + 3: the class statistics (initialised by the hook's pass over the
    source before the first iteration, not again on resume) and the random state come back."""
    out, resumed, reference = resume_is_exact(SDCA_DEMO, toy_root, tmp_path,
                                              demo_options('sdca', toy_root))
    assert 'class statistics from 2 source batches' in out  # 8 images, batch 4
    assert 'class statistics loaded, no pass' in resumed
    assert ACTIVE['sdca'][1] <= active(reference)


def test_t2sda_train_val_resume_is_exact(toy_root, tmp_path):
    """3 iterations + resume + 3: the EMA teacher with its projector and the random state (FDA
    pairs, queries and negatives drawn with replacement, ClassMix) come back."""
    _, _, reference = resume_is_exact(T2SDA_DEMO, toy_root, tmp_path)
    assert ACTIVE['t2sda'][1] <= active(reference)
    assert all(float(losses['pull.pull']) > 0 for losses in reference.values())


@pytest.mark.parametrize('demo,logged', [(DACS_DEMO, 'mix.pseudo_weight'),
                                           (CONFETI_DEMO, 'cut.loss_sc')])
def test_demo_with_dist_train_on_two_cpu_processes(toy_root, tmp_path, demo, logged):
    """tools/dist_train.sh CONFIG 2 (gloo): DACS, and CONFETI with its four optimisers and the CUT
    networks outside the DDP reducer (the README's `tools/dist_train.sh configs/confeti/gta2cs.py 8`
    at toy size)."""
    work = str(tmp_path / 'dist')
    out = run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), demo, '2', '--work-dir', work]
              + options(toy_root, 2), cwd=str(tmp_path), PYTHON=sys.executable,
              PORT=free_port())
    assert 'Distributed training: True' in out and 'GPU number: 2' in out
    assert 'Iter(train) [2/2]' in out and osp.isfile(osp.join(work, 'iter_2.pth'))
    assert logged in out


def test_confeti_train_val_resume_is_exact(toy_root, tmp_path):
    """6 iterations vs 3 + resume + 3 through tools/train.py: the four optimisers (segmenter and
    CUT's 𝒢, ℰ, H_l), the CUT networks, φ, the prototypes and the gates (iteration count) come back;
    the gates are lowered so that every loss is active at iterations 4 to 6."""
    _, _, reference = resume_is_exact(CONFETI_DEMO, toy_root, tmp_path,
                                      demo_options('confeti', toy_root))
    assert ACTIVE['confeti'][1] <= active(reference)
