"""Staged training (e.g. CLDA's pre-training stages, SDCA's pseudo-labels and self-training) with
one command.

    python tools/train_pipeline.py PIPELINE --work-dir DIR [--gpus N] [--until STAGE]
        [--cfg-options k=v ...]

PIPELINE is a config file with a list ``stages`` of dicts:

- ``name``: the stage's folder under DIR;
- ``config``: its config, relative to the pipeline file (write ``'{{ fileDirname }}/...'`` in a
  pipeline that others inherit with ``_base_``);
- ``init`` (optional): the weights it starts from, a list of earlier training stages merged in
  order; ``'stage:prefix'`` takes only that stage's keys under ``prefix`` (e.g.
  ``'1b_contrast:projection_head.'``);
- ``cfg_options`` (optional): a dict of config overrides (``{'model.label_expansion': None}``);
  ``{work_dir}`` in its strings becomes DIR (absolute), so a stage can read an earlier stage's
  output, e.g. ``{'train_dataloader.dataset.data_prefix.seg_map_path':
  '{work_dir}/3_pseudo_labels/labels'}``;
- ``tool`` (optional): run ``tools/<tool>.py`` instead of training (e.g. ``'pseudo_label'``).

A training stage runs ``tools/train.py`` (``tools/dist_train.sh`` with ``--gpus N``) on its
resolved config, written to ``DIR/<name>/config.py``, with ``load_from`` = the merged init weights.
When it finishes, the trained network of its last checkpoint (the student of a UDA model, as a
plain segmentor state dict) is written to ``DIR/<name>/final.pth``; the last checkpoint, not the
best on target validation, since UDA has no target labels to select with.

A tool stage needs ``init``; it runs
``tools/<tool>.py DIR/<name>/config.py DIR/<name>/init.pth --work-dir DIR/<name>`` (through
``tools/dist_launch.sh`` with ``--gpus N``, adding ``--launcher pytorch``). The convention: the tool
writes its outputs under its ``--work-dir`` and, as its last act, the marker file
``DIR/<name>/done``; the stage is finished when the marker exists, and a tool must remove a stale
marker when it starts. A tool stage has no weights, so it cannot be another stage's ``init``.

Running the command again skips finished stages (saying which keys of a skipped stage's resolved
config differ from those it was trained with), resumes an interrupted training stage from its
latest checkpoint and reruns an interrupted tool stage.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import tempfile

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from any folder

import mmseg_uda  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.runner import find_latest_checkpoint  # noqa: E402

from mmseg_uda.engine import CfgOptionsAction, check_cfg_options, read_config  # noqa: E402

TOOLS = osp.dirname(osp.abspath(__file__))
STAGE_KEYS = {'name', 'config', 'init', 'cfg_options', 'tool'}
TOOL_DONE = 'done'  # a tool stage's completion marker, written last by the tool
TRANSLATOR_PREFIXES = ('generator.', 'discriminator.', 'patch_mlp.')  # CONFETI's CUT networks


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train the stages of a pipeline config in order')
    parser.add_argument('pipeline', help='pipeline config (a list `stages`)')
    parser.add_argument('--work-dir', required=True, help='one folder per stage is made here')
    parser.add_argument('--gpus', type=int, default=1, help='processes per stage (dist_train.sh)')
    parser.add_argument('--until', help='stop after this stage')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptionsAction, default={},
                        help='overrides applied to every stage, e.g. data roots')
    return parser.parse_args(argv)


def read_stages(path):
    """The checked ``stages`` of a pipeline file, config paths made absolute."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'pipeline file {path} does not exist')
    stages = Config.fromfile(path).get('stages')
    if not stages:
        raise KeyError(f'{path}: no `stages` list')
    seen, tools = [], []
    for i, stage in enumerate(stages):
        where = f'{path}: stages[{i}]'
        unknown = set(stage) - STAGE_KEYS
        if unknown or 'name' not in stage or 'config' not in stage:
            raise KeyError(f'{where} needs `name` and `config` (optional `init`, `cfg_options`, '
                           f'`tool`); unknown keys {sorted(unknown)}')
        where = f"{where} ({stage['name']})"
        stage['config'] = osp.abspath(osp.join(osp.dirname(path), stage['config']))
        if not osp.isfile(stage['config']):
            raise FileNotFoundError(f"{where}: config {stage['config']} does not exist")
        for ref in stage.get('init') or []:
            name = ref.split(':')[0]
            if name in tools:
                raise KeyError(f'{where}: init {ref!r} is a tool stage, it has no weights')
            if name not in seen:
                raise KeyError(f'{where}: init {ref!r} is not an earlier stage ({seen})')
        if stage.get('tool') is not None:
            if not osp.isfile(tool_script(stage['tool'])):
                raise FileNotFoundError(f"{where}: tool {stage['tool']!r} is not a script "
                                        f"{tool_script(stage['tool'])}")
            if not stage.get('init'):
                raise KeyError(f"{where}: tool stage {stage['tool']!r} needs `init`, the "
                               'weights it runs with')
            tools.append(stage['name'])
        seen.append(stage['name'])
    return stages


def tool_script(tool):
    return osp.join(TOOLS, f'{tool}.py')


def fill_work_dir(value, work_dir):
    """``value`` with ``{work_dir}`` replaced by ``work_dir`` in every string it holds."""
    if isinstance(value, str):
        return value.replace('{work_dir}', work_dir)
    if isinstance(value, dict):
        return {k: fill_work_dir(v, work_dir) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(fill_work_dir(v, work_dir) for v in value)
    return value


def network_state(checkpoint):
    """The trained network of a checkpoint as a plain segmentor state dict (a UDA model's student,
    with the image translator a UDA model trains next to it, e.g. CONFETI's ``generator.*``, under
    its own keys; any other model as it is)."""
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    state = state.get('state_dict', state)
    student = {k[len('student.'):]: v for k, v in state.items() if k.startswith('student.')}
    if not student:
        return state
    student.update({k: v for k, v in state.items() if k.startswith(TRANSLATOR_PREFIXES)})
    return student


def save_atomic(obj, path):
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)  # never a half-written file at `path`


def merge_init(refs, work_dir):
    """Merge the final weights of earlier stages in order (``'stage:prefix'``: keys under prefix)."""
    merged = {}
    for ref in refs:
        name, _, prefix = ref.partition(':')
        state = torch.load(osp.join(work_dir, name, 'final.pth'), map_location='cpu',
                           weights_only=False)['state_dict']
        picked = {k: v for k, v in state.items() if k.startswith(prefix)}
        if not picked:
            raise KeyError(f'init {ref!r}: stage {name} has no weights under {prefix!r}')
        merged.update(picked)
    return merged


def stage_config(stage, stage_dir, args):
    """A stage's resolved config, as written to ``DIR/<name>/config.py``."""
    cfg = read_config(stage['config'])
    cfg.merge_from_dict(fill_work_dir(dict(stage.get('cfg_options') or {}),
                                      osp.abspath(args.work_dir)))
    check_cfg_options(cfg, args.cfg_options, stage['config'])
    cfg.merge_from_dict(args.cfg_options)
    if stage.get('init') and not stage.get('tool'):
        cfg.load_from = osp.join(stage_dir, 'init.pth')
    return cfg


def _flat(node, path=''):
    if isinstance(node, dict):
        return {k: v for key, child in node.items()
                for k, v in _flat(child, f'{path}.{key}' if path else key).items()}
    return {path: node}


def changed_keys(old_path, cfg):
    """The keys in which ``cfg`` differs from the config file ``old_path`` (both as read back
    from a dump, so that tuples and lists compare alike)."""
    with tempfile.TemporaryDirectory() as tmp:
        new_path = osp.join(tmp, 'config.py')
        cfg.dump(new_path)
        old, new = (_flat(Config.fromfile(p).to_dict()) for p in (old_path, new_path))
    return sorted(k for k in set(old) | set(new) if old.get(k, KeyError) != new.get(k, KeyError))


def run_stage(stage, args):
    stage_dir = osp.abspath(osp.join(args.work_dir, stage['name']))
    tool = stage.get('tool')
    marker = osp.join(stage_dir, TOOL_DONE if tool else 'final.pth')
    cfg = stage_config(stage, stage_dir, args)
    config = osp.join(stage_dir, 'config.py')
    if osp.isfile(marker):
        try:
            changed = changed_keys(config, cfg) if osp.isfile(config) else []
        except Exception as err:  # an unreadable old config must not stop the pipeline
            changed = [f'unknown: {config} cannot be read ({type(err).__name__})']
        note = '' if not changed else (
            f'; WARNING: the options now give another config than the one it was trained with, '
            f'{len(changed)} keys differ ({", ".join(changed[:8])}{", ..." * (len(changed) > 8)}'
            f'): delete {stage_dir} to run it again with them')
        print(f"[{stage['name']}] done, skipped ({marker}){note}", flush=True)
        return
    os.makedirs(stage_dir, exist_ok=True)
    if stage.get('init'):
        init = osp.join(stage_dir, 'init.pth')
        save_atomic(dict(state_dict=merge_init(stage['init'], args.work_dir),
                         meta=dict(init=list(stage['init']))), init)
    cfg.dump(config)
    if tool:
        run_tool(stage, config, init, stage_dir, args.gpus)
        return
    resuming = find_latest_checkpoint(stage_dir) is not None
    resumed = ' (resuming)' if resuming else ''
    print(f"[{stage['name']}] training {stage['config']}{resumed} in {stage_dir}", flush=True)
    if args.gpus > 1:
        cmd = ['bash', osp.join(TOOLS, 'dist_train.sh'), config, str(args.gpus)]
    else:
        cmd = [sys.executable, osp.join(TOOLS, 'train.py'), config]
    proc = subprocess.run(cmd + ['--work-dir', stage_dir] + ['--resume'] * resuming)
    if proc.returncode != 0:
        sys.exit(f"[{stage['name']}] training failed (exit {proc.returncode}); run the same "
                 'command again to resume it')
    last = find_latest_checkpoint(stage_dir)
    if last is None:
        sys.exit(f"[{stage['name']}] no checkpoint in {stage_dir}: set "
                 'default_hooks.checkpoint so that the last iteration is saved')
    save_atomic(dict(state_dict=network_state(last), meta=dict(stage=stage['name'],
                                                               checkpoint=last)), marker)
    print(f"[{stage['name']}] finished: {marker}", flush=True)


def run_tool(stage, config, checkpoint, stage_dir, gpus):
    """``tools/<tool>.py CONFIG CHECKPOINT --work-dir STAGE_DIR``; finished when it wrote the
    marker ``STAGE_DIR/done``."""
    tool = stage['tool']
    print(f"[{stage['name']}] running tools/{tool}.py on {stage['config']} in {stage_dir}",
          flush=True)
    args = [config, checkpoint, '--work-dir', stage_dir]
    if gpus > 1:
        cmd = ['bash', osp.join(TOOLS, 'dist_launch.sh'), f'{tool}.py', str(gpus)] + args
    else:
        cmd = [sys.executable, tool_script(tool)] + args
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        sys.exit(f"[{stage['name']}] tool {tool} failed (exit {proc.returncode}); run the same "
                 'command again to redo it')
    marker = osp.join(stage_dir, TOOL_DONE)
    if not osp.isfile(marker):
        sys.exit(f"[{stage['name']}] tool {tool} exited without writing its completion marker "
                 f'{marker}')
    print(f"[{stage['name']}] finished: {marker}", flush=True)


def main(argv=None):
    args = parse_args(argv)
    stages = read_stages(args.pipeline)
    names = [s['name'] for s in stages]
    if args.until is not None and args.until not in names:
        sys.exit(f'--until {args.until}: no such stage in {args.pipeline} ({names})')
    for stage in stages:
        run_stage(stage, args)
        if stage['name'] == args.until:
            break


if __name__ == '__main__':
    main()
