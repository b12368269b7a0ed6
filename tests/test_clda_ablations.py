"""CLDA Table 3's pipelines train what their row's columns say (configs/clda/ablations/README.md).

Each pipeline's stages are resolved (with their ``cfg_options``) and read: transfer = stage 1a sees the
FDA-translated source; pre-training = a stage 1b; contrast = stage 2 has α (L_in + L_cross); label
expansion = a CLDA stage expands pseudo-labels; and whether stage 2 (self-training) runs at all. Rows
3-4 come in both readings, so the contrast's gain can be told apart from self-training.
"""
import glob
import os.path as osp
import sys

import pytest
from conftest import REPO
from mmengine.config import Config

sys.path.insert(0, osp.join(REPO, 'tools'))
import train_pipeline  # noqa: E402

ABLATIONS = osp.join(REPO, 'configs', 'clda', 'ablations')
# file: (transfer, pre-training, contrast in self-training, label expansion, stage 2)
ROWS = {
    'row1_baseline.py': (False, False, False, False, False),
    'row2_transfer.py': (True, False, False, False, False),
    'row3_transfer_pretrain.py': (True, True, False, False, False),
    'row3_transfer_pretrain_self_training.py': (True, True, False, False, True),
    'row4_transfer_pretrain_expansion.py': (True, True, False, True, False),
    'row4_transfer_pretrain_self_training_expansion.py': (True, True, False, True, True),
    'row5_no_transfer.py': (False, True, True, True, True),
    'row6_no_expansion.py': (True, True, True, False, True),
    'row7_full.py': (True, True, True, True, True),
}


def stage_configs(name):
    out = {}
    for stage in train_pipeline.read_stages(osp.join(ABLATIONS, name)):
        cfg = Config.fromfile(stage['config'])
        cfg.merge_from_dict(dict(stage.get('cfg_options') or {}))
        out[stage['name']] = cfg
    return out


def test_every_row_file_is_listed():
    assert {osp.basename(p) for p in glob.glob(osp.join(ABLATIONS, 'row*.py'))} == set(ROWS)


@pytest.mark.parametrize('name', sorted(ROWS))
def test_row_trains_its_components(name):
    stages = stage_configs(name)
    source = stages['1a_source'].train_dataloader.dataset.pipeline
    clda = [c.model for c in stages.values() if c.model.type == 'CLDA']
    got = (any(t['type'] == 'FDA' for t in source), '1b_contrast' in stages,
           '2_self_training' in stages and stages['2_self_training'].model.contrast is not None,
           any(m.get('label_expansion') is not None for m in clda), '2_self_training' in stages)
    assert got == ROWS[name], name


def test_the_second_reading_of_row_3_differs_from_row_6_in_the_contrast_only():
    """Row 3 -> row 6 (+7.8) then measures the contrast alone: the same stages, and stage 2's
    model differs only in `contrast`."""
    row3 = stage_configs('row3_transfer_pretrain_self_training.py')
    row6 = stage_configs('row6_no_expansion.py')
    assert list(row3) == list(row6)
    for name in row3:
        a, b = row3[name].model.to_dict(), row6[name].model.to_dict()
        if name == '2_self_training':
            assert a.pop('contrast') is None and b.pop('contrast') is not None
        assert a == b, name
