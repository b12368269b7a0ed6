"""Config loading shared by ``tools/train.py`` and ``tools/test.py``."""
import os
import os.path as osp

from mmengine.config import Config, DictAction

PLUGIN = 'mmseg_uda'


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
    """Read a config, check the keys the plugin relies on, and apply the common flags.

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
    cfg.launcher = args.launcher
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    return cfg
