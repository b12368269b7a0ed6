"""tools/train_pipeline.py on CLDA's GTA5 pipeline, shrunk to toy data: stage order, weight hand-over
(frozen backbone in 1c, 1b's projection head into stage 2), skipping finished stages, resuming."""
import os
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO
from mmengine.config import Config
from test_method_configs import small_config
from test_tools import run

sys.path.insert(0, osp.join(REPO, 'tools'))
import train_pipeline  # noqa: E402

TOOL = osp.join(REPO, 'tools', 'train_pipeline.py')
PIPELINES = sorted(osp.join(REPO, 'configs', 'clda', p) for p in
                   ['pipeline_gta2cs.py', 'pipeline_synthia2cs.py'] +
                   [osp.join('ablations', f) for f in
                    os.listdir(osp.join(REPO, 'configs', 'clda', 'ablations'))])


@pytest.mark.parametrize('path', PIPELINES, ids=osp.basename)
def test_pipeline_files_are_valid(path):
    stages = train_pipeline.read_stages(path)
    for stage in stages:
        cfg = Config.fromfile(stage['config'])
        cfg.merge_from_dict(dict(stage.get('cfg_options') or {}))
        assert cfg.train_cfg.max_iters > 0


def test_bad_pipelines_name_the_fault(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("stages = [dict(name='a', config='missing.py')]\n")
    with pytest.raises(FileNotFoundError, match=r'stages\[0\] \(a\): config .*missing.py'):
        train_pipeline.read_stages(str(bad))
    cfg = osp.join(REPO, 'configs', 'clda', 'gta2cs.py')
    bad.write_text(f"stages = [dict(name='a', config='{cfg}', init=['b'])]\n")
    with pytest.raises(KeyError, match="init 'b' is not an earlier stage"):
        train_pipeline.read_stages(str(bad))
    bad.write_text(f"stages = [dict(name='a', config='{cfg}', iters=3)]\n")
    with pytest.raises(KeyError, match=r"unknown keys \['iters'\]"):
        train_pipeline.read_stages(str(bad))


def weights(path):
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def test_clda_pipeline_runs_skips_and_resumes(toy_root, tmp_path):
    # the real GTA5 pipeline with each stage config shrunk to toy data and 2 iterations
    stages = train_pipeline.read_stages(osp.join(REPO, 'configs', 'clda', 'pipeline_gta2cs.py'))
    for stage in stages:
        cfg = small_config(osp.relpath(stage['config'], osp.join(REPO, 'configs')), toy_root,
                           str(tmp_path / 'unused'))
        cfg.train_cfg.update(max_iters=2, val_interval=100)
        cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
        small = str(tmp_path / f"{stage['name']}.py")
        cfg.dump(small)
        stage['config'] = small
    pipeline = tmp_path / 'pipeline.py'
    pipeline.write_text(f'stages = {stages!r}\n')
    work = tmp_path / 'work'
    cmd = [sys.executable, TOOL, str(pipeline), '--work-dir', str(work)]
    out = run(cmd + ['--until', '1b_contrast'], cwd=str(tmp_path))
    assert '[1b_contrast] finished' in out and not (work / '1c_head').exists()
    out = run(cmd, cwd=str(tmp_path))
    assert '[1a_source] done, skipped' in out and '[1b_contrast] done, skipped' in out
    assert '[2_self_training] finished' in out
    final = {s['name']: weights(work / s['name'] / 'final.pth') for s in stages}
    assert not any(k.startswith(('student.', 'teacher')) for k in final['1b_contrast'])
    # 1c trains the head only: the backbone (weights and BN statistics) is 1b's
    backbone = [k for k in final['1c_head'] if k.startswith('backbone.')]
    assert backbone and all(torch.equal(final['1c_head'][k], final['1b_contrast'][k])
                            for k in backbone)
    assert not torch.equal(final['1c_head']['decode_head.aspp_modules.0.conv.weight'],
                           final['1b_contrast']['decode_head.aspp_modules.0.conv.weight'])
    # stage 2 starts from 1c's network and 1b's projection head
    init = weights(work / '2_self_training' / 'init.pth')
    assert set(init) == set(final['1c_head']) | {k for k in final['1b_contrast']
                                                 if k.startswith('projection_head.')}
    assert all(torch.equal(init[k], final['1b_contrast'][k]) for k in init
               if k.startswith('projection_head.'))
    # an interrupted stage resumes from its checkpoint; finished stages are not run again
    os.remove(work / '2_self_training' / 'final.pth')
    out = run(cmd, cwd=str(tmp_path))
    assert '[2_self_training] training' in out and '(resuming)' in out
    assert 'resumed epoch: 0, iter: 2' in out and '[2_self_training] finished' in out
