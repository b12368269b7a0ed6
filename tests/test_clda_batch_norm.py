"""CLDA's BN: synchronised over the global batch in every stage of its pipelines (PSPNet's practice,
CLDA §5.4), and a single process says in its log that it normalises over its own images instead."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.model import revert_sync_batchnorm
from test_clda import build_clda, optim
from test_dacs import paired_batch, tiny_segmentor
from test_stage_lr import CLDA, pipeline_stage_configs

from mmseg_uda.models.segmentors import clda as clda_module


@pytest.mark.parametrize('path', sorted(pipeline_stage_configs()))
def test_every_stage_of_the_pipelines_uses_sync_bn(path):
    model = Config.fromfile(osp.join(CLDA, path)).model
    backbone = model.get('segmentor', model).backbone
    assert backbone.norm_cfg.type == 'SyncBN', path


def test_one_process_logs_what_sync_bn_becomes_and_trains_on_cpu(monkeypatch):
    logged = []
    monkeypatch.setattr(clda_module, 'print_log', lambda msg, **kw: logged.append((msg, kw)))
    build_clda()  # plain BN: nothing to say
    assert not logged
    seg = tiny_segmentor()
    seg['backbone']['norm_cfg'] = dict(type='SyncBN', requires_grad=True)
    torch.manual_seed(0)
    model = build_clda(segmentor=seg)
    assert len(logged) == 1
    msg, kw = logged[0]
    assert 'SyncBN runs as BN' in msg and '--gpus 8' in msg and '\n' not in msg
    assert kw['level'] == 30  # WARNING
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    model = revert_sync_batchnorm(model)  # what mmengine's Runner does when not distributed
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    log = model.train_step(paired_batch(b=1), optim(model))
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
