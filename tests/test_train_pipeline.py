"""tools/train_pipeline.py on CLDA's GTA5 pipeline, shrunk to toy data: stage order, weight
hand-over (frozen backbone in 1c, 1b's projection head into stage 2), skipping finished stages,
resuming; and a train -> pseudo-label tool -> retrain pipeline (tool stages, ``{work_dir}``)."""
import glob
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
PIPELINES = sorted(  # every config with `stages` (pipeline files, e.g. CLDA's and SDCA's ablations)
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p.split(osp.sep) and 'stages' in Config.fromfile(p))


@pytest.mark.parametrize('path', PIPELINES, ids=osp.basename)
def test_pipeline_files_are_valid(path):
    stages = train_pipeline.read_stages(path)
    for stage in stages:
        cfg = Config.fromfile(stage['config'])
        cfg.merge_from_dict(dict(stage.get('cfg_options') or {}))
        assert cfg.train_cfg.max_iters > 0
        if stage.get('tool') == 'pseudo_label':
            assert 'pseudo_label_dataloader' in cfg


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


def test_tool_stages_are_checked(tmp_path):
    cfg = osp.join(REPO, 'configs', 'clda', 'gta2cs.py')
    bad = tmp_path / 'bad.py'
    bad.write_text(f"stages = [dict(name='a', config='{cfg}', tool='pseudo_label')]\n")
    with pytest.raises(KeyError, match=r"stages\[0\] \(a\): tool stage 'pseudo_label' needs"):
        train_pipeline.read_stages(str(bad))
    bad.write_text(f"stages = [dict(name='a', config='{cfg}'), "
                   f"dict(name='b', config='{cfg}', init=['a'], tool='nope')]\n")
    with pytest.raises(FileNotFoundError, match=r"stages\[1\] \(b\): tool 'nope' is not a script"):
        train_pipeline.read_stages(str(bad))
    bad.write_text(f"stages = [dict(name='a', config='{cfg}'), "
                   f"dict(name='b', config='{cfg}', init=['a'], tool='pseudo_label'), "
                   f"dict(name='c', config='{cfg}', init=['b'])]\n")
    with pytest.raises(KeyError, match=r"stages\[2\] \(c\): init 'b' is a tool stage"):
        train_pipeline.read_stages(str(bad))


def test_work_dir_in_cfg_options():
    options = {'a.b': '{work_dir}/x/labels', 'c': ['{work_dir}', 1], 'd': dict(e='{work_dir}y')}
    assert train_pipeline.fill_work_dir(options, '/w') == {
        'a.b': '/w/x/labels', 'c': ['/w', 1], 'd': dict(e='/wy')}


def test_train_pseudo_label_retrain_pipeline(toy_root, tmp_path, capfd, monkeypatch):
    # train on the source -> pseudo-label the target with it (tool stage) -> train on the labels;
    # the driver runs in this process (its stages in subprocesses, whose output capfd reads)
    from test_pseudo_label import tool_config
    from mmseg_uda.datasets.toy_shift import TOY_SHIFT_CLASSES

    def shrunk(cfg, name):
        cfg.train_cfg.update(max_iters=2, val_interval=100)
        cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
        path = str(tmp_path / f'{name}.py')
        cfg.dump(path)
        return path

    demo = 'demo/source_only_toy_shift.py'
    self_training = small_config(demo, toy_root, str(tmp_path / 'unused'))
    self_training.train_dataloader.dataset = dict(
        type='BaseSegDataset', data_root=toy_root, metainfo=dict(classes=TOY_SHIFT_CLASSES),
        data_prefix=dict(img_path='target/train/images', seg_map_path='set/by/the/pipeline'),
        img_suffix='.png', seg_map_suffix='.png',
        pipeline=self_training.train_dataloader.dataset.pipeline)
    stages = [
        dict(name='a_source', config=shrunk(small_config(demo, toy_root, ''), 'a')),
        dict(name='b_pseudo', tool='pseudo_label', init=['a_source'],
             config=shrunk(tool_config(toy_root, tmp_path), 'b')),
        dict(name='c_self', config=shrunk(self_training, 'c'), cfg_options={
            'train_dataloader.dataset.data_prefix.seg_map_path': '{work_dir}/b_pseudo/labels'}),
    ]
    pipeline = tmp_path / 'pipeline.py'
    pipeline.write_text(f'stages = {stages!r}\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # as test_tools.run: stages are tiny
    argv = [str(pipeline), '--work-dir', 'work']  # relative: {work_dir} is made absolute
    train_pipeline.main(argv)
    out = ''.join(capfd.readouterr())
    work = tmp_path / 'work'
    assert '[b_pseudo] running tools/pseudo_label.py' in out and 'class thresholds: road' in out
    assert '[b_pseudo] finished' in out and '[c_self] finished' in out
    assert (work / 'b_pseudo' / 'done').is_file()
    assert len(os.listdir(work / 'b_pseudo' / 'labels')) == 8
    init = weights(work / 'b_pseudo' / 'init.pth')
    final = weights(work / 'a_source' / 'final.pth')
    assert all(torch.equal(init[k], final[k]) for k in final)
    cfg = Config.fromfile(str(work / 'c_self' / 'config.py'))
    labels = cfg.train_dataloader.dataset.data_prefix.seg_map_path
    assert labels == str(work / 'b_pseudo' / 'labels') and cfg.load_from is None
    train_pipeline.main(argv)
    out = ''.join(capfd.readouterr())
    assert all(f'[{s}] done, skipped' in out for s in ('a_source', 'b_pseudo', 'c_self'))


def test_a_stage_exports_its_student_with_the_translator_it_trains(tmp_path):
    """CONFETI's stage 1 hands stage 2 its generator: ``final.pth`` holds the student (unprefixed)
    and the CUT networks under their own keys, not the teacher, prototypes or optimiser state."""
    path = str(tmp_path / 'iter_1.pth')
    torch.save(dict(state_dict={
        'student.backbone.w': torch.ones(1), 'teacher.module.backbone.w': torch.zeros(1),
        'generator.model.1.weight': torch.full((1, ), 2.0), 'discriminator.model.0.weight':
        torch.full((1, ), 3.0), 'prototypes.prototypes': torch.zeros(2, 2)}), path)
    state = train_pipeline.network_state(path)
    assert sorted(state) == ['backbone.w', 'discriminator.model.0.weight',
                             'generator.model.1.weight']
    cut_only = str(tmp_path / 'cut.pth')  # a translator alone (stage 0) is exported whole
    torch.save(dict(state_dict={'generator.model.1.weight': torch.ones(1)}), cut_only)
    assert sorted(train_pipeline.network_state(cut_only)) == ['generator.model.1.weight']


def test_skipped_stage_names_the_keys_changed_since_it_ran(tmp_path, capsys):
    """Re-running with other options skips a finished stage, warning which keys of its resolved
    config differ from those it was trained with; options that change nothing are refused."""
    from test_tools import DEMO
    pipeline = tmp_path / 'pipeline.py'
    pipeline.write_text(f"stages = [dict(name='a', config='{DEMO}')]\n")
    work = tmp_path / 'work'
    (work / 'a').mkdir(parents=True)
    Config.fromfile(DEMO).dump(str(work / 'a' / 'config.py'))  # as the finished run wrote it
    (work / 'a' / 'final.pth').write_bytes(b'')
    argv = [str(pipeline), '--work-dir', str(work)]
    train_pipeline.main(argv)
    out = capsys.readouterr().out
    assert '[a] done, skipped' in out and 'differ' not in out
    train_pipeline.main(argv + ['--cfg-options', 'train_cfg.max_iters=7',
                                'optim_wrapper.optimizer.lr=0.1'])
    out = capsys.readouterr().out
    assert '[a] done, skipped' in out and '2 keys differ (optim_wrapper.optimizer.lr, ' \
        f'train_cfg.max_iters): delete {work}/a to run it again with them' in out
    with pytest.raises(KeyError, match="'max_iters' is a variable of config"):
        train_pipeline.main(argv + ['--cfg-options', 'max_iters=7'])
