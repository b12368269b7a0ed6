import os.path as osp

from conftest import REPO
from test_ddp_exactness import run_torchrun


def test_clda_state_is_identical_on_every_rank():
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'clda_ddp_check.py'), 'CLDA_DDP_STATE_OK')
    assert 'state tensors equal on both ranks' in out
