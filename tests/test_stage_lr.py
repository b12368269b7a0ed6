"""The learning rate each parameter of CLDA's stages trains with (CLDA §4, §5.4).

Every stage config of CLDA's pipelines builds its optimiser on its own network shrunk to
ResNet-18 at width 16 (the same parameter names, so the same ``paramwise_cfg`` matches), and the
resolved per-parameter learning rates of the backbone, the decode head and the projection head are
compared with the paper: stage 1a 0.01 (§5.4), stage 1c the head alone at 0.001 with the backbone
frozen (§4), stage 2 1e-3 (§5.4). The heads' x10 in 1a, 1b and 2 is our choice (PSPNet's code; the
paper gives none) and stage 1b's lr is ours (the paper gives none).
"""
import glob
import os.path as osp

import pytest
from conftest import REPO
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

CLDA = osp.join(REPO, 'configs', 'clda')
SOURCE = (0.01, 0.1, None)  # 1a: backbone, decode head, projection head (none)
CONTRAST = (1e-3, 1e-2, 1e-2)  # 1b (our choice) and 2 (§5.4): 1e-3, heads x10
HEAD_ONLY = (None, 1e-3, None)  # 1c (§4): backbone frozen, the head at 0.001
EXPECTED = {
    'stages/gta2cs_1a_source.py': SOURCE,
    'stages/gta2cs_1a_source_untranslated.py': SOURCE,
    'stages/synthia2cs_1a_source.py': SOURCE,
    'stages/gta2cs_1b_contrast.py': CONTRAST,
    'stages/synthia2cs_1b_contrast.py': CONTRAST,
    'stages/gta2cs_1c_head.py': HEAD_ONLY,
    'stages/gta2cs_1c_head_untranslated.py': HEAD_ONLY,
    'stages/synthia2cs_1c_head.py': HEAD_ONLY,
    'gta2cs.py': CONTRAST,
    'synthia2cs.py': CONTRAST,
    'stages/gta2cs_2_self_training_no_contrast.py': CONTRAST,
}


def pipeline_stage_configs():
    """The configs that CLDA's pipeline files train (the paper's protocol and its ablations)."""
    paths = set()
    for path in glob.glob(osp.join(CLDA, '**', '*.py'), recursive=True):
        if '_base_' in path.split(osp.sep):
            continue
        for stage in Config.fromfile(path).get('stages') or []:
            config = stage['config'].replace('{{ fileDirname }}', osp.dirname(path))
            paths.add(osp.relpath(osp.normpath(osp.join(osp.dirname(path), config)), CLDA))
    return paths


def test_every_pipeline_stage_has_its_learning_rates_here():
    assert pipeline_stage_configs() <= set(EXPECTED)


def shrunk_model(cfg):
    """The config's model with ResNet-18 at width 16 and no pretrained weights."""
    model = cfg.model.to_dict()
    seg = model.get('segmentor', model)
    seg['backbone'].update(depth=18, stem_channels=16, base_channels=16, init_cfg=None)
    seg['decode_head']['in_channels'] = 128
    if model.get('projection_head'):
        model['projection_head']['in_channels'] = 128
    return MODELS.build(model)


@pytest.mark.parametrize('path', sorted(EXPECTED))
def test_resolved_learning_rates(path):
    cfg = Config.fromfile(osp.join(CLDA, path))
    model = shrunk_model(cfg)
    optimizer = build_optim_wrapper(model, cfg.optim_wrapper).optimizer
    lr = {id(p): g['lr'] for g in optimizer.param_groups for p in g['params']}
    network = getattr(model, 'student', model)
    parts = dict(zip(('backbone', 'decode_head', 'projection_head'), EXPECTED[path]))
    for part, want in parts.items():
        module = getattr(network, part, None)
        assert (module is None) == (part == 'projection_head' and want is None), (path, part)
        if module is None:
            continue
        params = list(module.parameters())
        if want is None:  # frozen: weights and BN statistics (§4: only the head is trained)
            assert not any(p.requires_grad for p in params), (path, part)
            assert module.norm_eval, path
            continue
        assert all(p.requires_grad for p in params), (path, part)
        got = sorted({lr[id(p)] for p in params})
        assert got == [pytest.approx(want)], f'{path}: {part} lr {got}, the paper {want}'
