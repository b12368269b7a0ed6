"""A run never loses a file and never silently does nothing: copied work dirs, resuming from a
path, options that would change nothing, partial checkpoint writes, busy ports, slow CPU AMP."""
import argparse
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
from conftest import REPO, free_port
from mmengine.config import Config
from mmseg.registry import MODELS
from test_bad_input import _save, fail, toy_runner
from test_dacs import build_dacs, tiny_segmentor
from test_submission import load_tool
from test_tools import DEMO, run, tiny_options

from mmseg_uda.compat import load_state_dict_checked
from mmseg_uda.engine import (add_common_args, check_checkpoint_paths, load_config,
                              process_group_scope)
from mmseg_uda.engine import optim_wrapper

TRAIN = osp.join(REPO, 'tools', 'train.py')
DACS_DEMO = osp.join(REPO, 'configs', 'demo', 'dacs_toy_shift.py')


def logged(monkeypatch, module='mmengine.logging'):
    """The warnings logged by ``print_log`` calls made through ``module``."""
    messages = []

    def print_log(msg, logger=None, level=20):
        if level >= 30:
            messages.append(msg)
    monkeypatch.setattr(f'{module}.print_log', print_log)
    return messages


# -- two real runs: a copied work dir, resuming from a path --------------------------------------
@pytest.fixture(scope='module')
def runs(toy_root, tmp_path_factory):
    """Run A (2 iterations, best checkpoint kept); B, a ``cp -r`` of A, resumed to 4 iterations."""
    tmp = tmp_path_factory.mktemp('runs')
    a, b = tmp / 'A', tmp / 'B'
    out_a = run([sys.executable, TRAIN, DEMO, '--work-dir', str(a), '--resume']
                + tiny_options(toy_root, 2), cwd=str(tmp))
    # A's best score recorded low, so that B's first validation is a new best and B replaces
    # "its" previous best checkpoint: the path in the record copied from A is A's file
    ckpt = torch.load(a / 'iter_2.pth', weights_only=False)
    ckpt['message_hub']['runtime_info']['best_score'] = -1.0
    torch.save(ckpt, a / 'iter_2.pth')
    shutil.copytree(a, b)
    out_b = run([sys.executable, TRAIN, DEMO, '--work-dir', str(b), '--resume']
                + tiny_options(toy_root, 4), cwd=str(tmp))
    return dict(tmp=tmp, a=a, b=b, out_a=out_a, out_b=out_b)


def test_resume_on_an_empty_work_dir_says_so(runs):
    assert f"--resume: no checkpoint in work dir {runs['a']} (no last_checkpoint file); " \
           'starting from iteration 0' in runs['out_a']


def test_a_copied_work_dir_never_deletes_the_other_runs_checkpoints(runs):
    a, b, out = runs['a'], runs['b'], runs['out_b']
    assert sorted(p for p in os.listdir(a) if p.endswith('.pth')) == [
        'best_mIoU_iter_2.pth', 'iter_2.pth']
    assert osp.isfile(b / 'best_mIoU_iter_4.pth') and osp.isfile(b / 'iter_4.pth')
    assert 'resumed epoch: 0, iter: 2' in out and 'Iter(train) [4/4]' in out
    assert f"resuming from {a}/iter_2.pth, outside this run's work dir {b}" in out
    assert f"kept {a}/best_mIoU_iter_2.pth: it is outside this run's work dir {b}" in out


@pytest.mark.parametrize('how', ['flag', 'cfg-options'])
def test_resume_from_a_path(runs, toy_root, how):
    """``--resume CKPT`` and ``--cfg-options resume=True load_from=CKPT`` resume (not a warm start
    from iteration 0): from iteration 4 with max_iters=2 there is nothing to train, an error."""
    ckpt = str(runs['b'] / 'iter_4.pth')
    resume = ['--resume', ckpt] if how == 'flag' else []
    opts = tiny_options(toy_root, 2) + ([] if resume else ['resume=True', f'load_from={ckpt}'])
    err = fail([sys.executable, TRAIN, DEMO, '--work-dir', str(runs['tmp'] / how)] + resume + opts,
               cwd=str(runs['tmp']))
    assert 'ValueError: resumed at iteration 4, beyond the end of the schedule ' \
           '(train_cfg.max_iters gives 2 iterations): nothing would be trained' in err


def test_checkpoint_paths_resolve_like_mmengine(tmp_path):
    ckpt = _save(tmp_path, 'iter_2.pth', {})
    cfg = Config(dict(work_dir=str(tmp_path / 'w'), load_from=ckpt, resume=True))
    assert check_checkpoint_paths(cfg, None) == ckpt and cfg.resume is True
    cfg = Config(dict(work_dir=str(tmp_path / 'w'), load_from=ckpt, resume=False))
    assert check_checkpoint_paths(cfg, 'auto') is None  # nothing to resume: warm start
    assert cfg.resume is False and cfg.load_from == ckpt
    with pytest.raises(FileNotFoundError, match=f'--resume: checkpoint {tmp_path}/nope.pth does '
                                                'not exist'):
        check_checkpoint_paths(cfg, str(tmp_path / 'nope.pth'))


def test_partial_file_of_a_killed_checkpoint_write_is_removed_at_the_next_save(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    stale = tmp_path / '.iter_7.pth.0123abcd.tmp'  # compat.atomic_put's name for iter_7.pth
    stale.write_bytes(b'PK\x03\x04')
    other = tmp_path / 'notes.tmp'
    other.write_text('not ours')
    toy_runner(tmp_path, 1).train()
    assert not stale.exists() and other.exists() and (tmp_path / 'iter_1.pth').is_file()


# -- checkpoint loading: UDA models ---------------------------------------------------------------
def test_plain_checkpoint_warm_starts_dacs_without_a_teacher_warning(tmp_path, monkeypatch):
    path = _save(tmp_path, 'source_only.pth', MODELS.build(tiny_segmentor()).state_dict())
    messages = logged(monkeypatch)
    dacs = build_dacs()
    load_state_dict_checked(dacs, torch.load(path, weights_only=False), path)
    assert messages == [] and int(dacs.teacher.steps) == 0


def test_checkpoint_fitting_no_parameter_of_a_uda_model(tmp_path):
    path = _save(tmp_path, 'other.pth', {'encoder.layer.weight': torch.zeros(2, 2)})
    with pytest.raises(RuntimeError, match=rf"checkpoint {path} fits no parameter of the DACS "
                                           r"model: its keys start with \['encoder'\]"):
        load_state_dict_checked(build_dacs(), torch.load(path, weights_only=False), path)


# -- options and config files ----------------------------------------------------------------------
def parser():
    p = argparse.ArgumentParser()
    p.add_argument('config')
    add_common_args(p)
    return p


def load(*options, config=DACS_DEMO):
    args = parser().parse_args([config, '--cfg-options', *options])
    return load_config(args.config, args)


def test_cfg_options_that_change_nothing_are_refused():
    with pytest.raises(KeyError, match=r"max_iters=?.*'max_iters' is a variable of config .*"
                                       r'dacs_toy_shift.py.*changes nothing; set '
                                       r'train_cfg.max_iters / param_scheduler.0.end instead'):
        load('max_iters=2')
    with pytest.raises(KeyError, match=r"'segmentor' is a variable .* set "
                                       r'model.segmentor.decode_head.num_classes instead'):
        load('segmentor.decode_head.num_classes=5')
    with pytest.raises(KeyError, match=r"'trian_cfg' is not a key of config .*; did you mean "
                                       r'train_cfg'):
        load('trian_cfg.max_iters=2')
    assert load('train_cfg.max_iters=2').train_cfg.max_iters == 2
    # read by tools/test.py --format-only (the unlabelled server split of ACDC / Dark Zurich)
    assert load('test_split_dataloader.dataset.data_root=d').test_split_dataloader == dict(
        dataset=dict(data_root='d'))


def test_malformed_cfg_option_names_the_token(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args([DACS_DEMO, '--cfg-options', 'train_cfg.max_iters=2', 'max_iters'])
    err = capsys.readouterr().err
    assert "--cfg-options: 'max_iters' is not of the form key=value, e.g. " \
           'train_cfg.max_iters=100 model.segmentor.decode_head.num_classes=11' in err
    parser().print_help()
    assert 'model.segmentor.decode_head.num_classes=11' in capsys.readouterr().out


def test_child_config_reusing_the_inherited_segmentor_variable(tmp_path):
    """``{{_base_.segmentor}}`` is the base's value: the child's own ``segmentor`` never reached
    the model (it built the base's 7-class head)."""
    from mmseg_uda.engine import read_config
    from mmseg_uda.engine.config import check_config_source
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{DACS_DEMO}']\n"
                     'segmentor = dict(decode_head=dict(num_classes=5))\n'
                     'model = dict(segmentor={{_base_.segmentor}})\n')
    with pytest.raises(ValueError, match=rf"config {child} assigns 'segmentor' and also uses "
                                         r"\{\{_base_.segmentor\}\}, which is the base files' "
                                         r"'segmentor' without this file's changes"):
        read_config(str(child))
    child.write_text(f"_base_ = ['{DACS_DEMO}']\nsegmentor = {{{{_base_.segmentor}}}}\n"
                     "segmentor['decode_head']['num_classes'] = 5\n")
    with pytest.raises(ValueError, match=r'\(TypeError: string indices .*\)\. While the file '
                                         r'runs, \{\{_base_.x\}\} is a placeholder string'):
        read_config(str(child))
    child.write_text(f"_base_ = ['{DACS_DEMO}']\nsegmentor = {{{{_base_.segmentor}}}}\n"
                     'model = dict(segmentor=dict(decode_head=dict(num_classes=5)))\n')
    assert read_config(str(child)).model.segmentor.decode_head.num_classes == 5
    # the base's value wrapped into a new one (as the CONFETI joint schedule does), or a comment
    child.write_text(f"_base_ = ['{DACS_DEMO}']\n# segmentor={{{{_base_.segmentor}}}}\n"
                     'param_scheduler = dict(\n    student={{_base_.param_scheduler}})\n')
    check_config_source(str(child))


# -- launcher and AMP ------------------------------------------------------------------------------
def test_dist_train_on_a_busy_port_says_so(tmp_path):
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(['bash', osp.join(REPO, 'tools', 'dist_train.sh'), DEMO, '1'],
                              capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
                              env={**os.environ, 'PORT': str(port), 'PYTHON': sys.executable})
    assert proc.returncode == 1
    assert f'dist_launch.sh: port {port} is in use' in proc.stderr and 'set PORT' in proc.stderr


def as_torchrun_rank(monkeypatch):
    """The environment torchrun gives a single rank (world size 1, on a free port)."""
    for key, value in dict(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', LOCAL_WORLD_SIZE='1',
                           MASTER_ADDR='127.0.0.1', MASTER_PORT=str(free_port())).items():
        monkeypatch.setenv(key, value)


def test_tools_end_the_process_group_they_trained_and_tested_in(toy_root, tmp_path, monkeypatch):
    """A process group left to the interpreter's exit made a gloo rank abort after its work was done
    (SIGABRT, "terminate called without an active exception"): train.py and test.py end theirs."""
    as_torchrun_rank(monkeypatch)
    work = str(tmp_path / 'work')
    options = tiny_options(toy_root, 2) + ['--launcher', 'pytorch']
    try:
        monkeypatch.setattr(sys, 'argv', ['train.py', DEMO, '--work-dir', work] + options)
        load_tool('train.py').main()
        assert not dist.is_initialized()
        load_tool('test.py').main([DEMO, osp.join(work, 'iter_2.pth'), '--work-dir', work]
                                  + options)
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_a_failing_rank_ends_its_process_group_at_once(monkeypatch):
    as_torchrun_rank(monkeypatch)

    @process_group_scope()
    def fails():
        dist.init_process_group('gloo')
        raise RuntimeError('bad input')
    with pytest.raises(RuntimeError, match='bad input'):
        fails()
    assert not dist.is_initialized()


def test_cpu_amp_without_native_bf16_warns_once(tmp_path, monkeypatch):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw\n')
    assert optim_wrapper.native_cpu_bf16(str(cpuinfo)) is False
    cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16\n')
    assert optim_wrapper.native_cpu_bf16(str(cpuinfo)) is True
    assert optim_wrapper.native_cpu_bf16(str(tmp_path / 'none')) is None
    monkeypatch.setattr(optim_wrapper, 'native_cpu_bf16', lambda: False)
    monkeypatch.setattr(optim_wrapper, '_warned_emulated_bf16', False)
    messages = logged(monkeypatch, 'mmseg_uda.engine.optim_wrapper')
    model = torch.nn.Linear(2, 2)
    for _ in range(2):
        optim_wrapper.CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert len(messages) == 1 and 'without native bfloat16 instructions' in messages[0]
