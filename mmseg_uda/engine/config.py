"""Config loading shared by ``tools/train.py`` and ``tools/test.py``."""
import os
import os.path as osp

from mmengine.config import Config, DictAction

PLUGIN = 'mmseg_uda'
# checks every run gets, also where a config replaces custom_hooks (appended, so that indices given
# with --cfg-options custom_hooks.N... keep pointing at the config's own hooks)
GUARD_HOOKS = ('FiniteLossHook', 'ClassCountCheckHook')


def add_common_args(parser):
    """Flags shared by the train and test tools (same names as mmseg's tools)."""
    parser.add_argument('--work-dir', help='the folder to save logs and checkpoints')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100 model.decode_head.num_classes=11')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(path, args):
    """Read a config, check the keys the plugin relies on, apply the common flags and add the
    :data:`GUARD_HOOKS` the config lacks.

    Raises:
        FileNotFoundError: the config file does not exist.
        KeyError: ``custom_imports`` does not import the plugin or ``default_scope`` is not mmseg.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    imports = (cfg.get('custom_imports') or {}).get('imports', [])
    imports = [imports] if isinstance(imports, str) else imports
    if PLUGIN not in imports:
        raise KeyError(f"config {path}: custom_imports must import the plugin, add "
                       f"custom_imports = dict(imports=['{PLUGIN}'], allow_failed_imports=False)")
    if cfg.get('default_scope') != 'mmseg':
        raise KeyError(f"config {path}: default_scope must be 'mmseg' "
                       f"(found {cfg.get('default_scope')!r})")
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks}
    cfg.custom_hooks = hooks + [dict(type=t) for t in GUARD_HOOKS if t not in present]
    cfg.launcher = args.launcher
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg


def check_checkpoint_paths(cfg, resume):
    """Before anything is built: with ``resume``, the work dir's ``last_checkpoint`` (when there is
    one) names an existing file; otherwise the local ``load_from`` file exists.

    Raises:
        FileNotFoundError: naming the ``last_checkpoint`` file or the ``load_from`` key, and the path.
    """
    marker = osp.join(cfg.work_dir, 'last_checkpoint')
    if resume and osp.isfile(marker):
        with open(marker) as f:
            last = f.read().strip()
        if '://' not in last and not osp.isfile(last):
            raise FileNotFoundError(f'--resume: {marker} names checkpoint {last!r}, which does '
                                    'not exist; write the path of an existing checkpoint into it '
                                    'or delete it to start afresh')
        return  # the run resumes: load_from is not used
    load_from = cfg.get('load_from')
    if load_from and '://' not in str(load_from) and not osp.isfile(osp.expanduser(load_from)):
        raise FileNotFoundError(f'load_from: checkpoint {load_from} does not exist')
