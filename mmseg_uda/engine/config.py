"""Config loading shared by the tools: flags, checks of ``--cfg-options`` and of the config file,
and what a run starts from (``--resume``, ``load_from``)."""
import difflib
import os
import os.path as osp
import re

from mmengine.config import Config, DictAction

PLUGIN = 'mmseg_uda'
# checks every run gets, also where a config replaces custom_hooks (appended, so that indices given
# with --cfg-options custom_hooks.N... keep pointing at the config's own hooks)
GUARD_HOOKS = ('FiniteLossHook', 'ClassCountCheckHook', 'ResumeCheckHook', 'DatasetCheckHook')
# top-level keys something reads after the config is loaded: mmengine's Runner (from_cfg and its
# build steps), mmseg's test-time augmentation and our tools; any other top-level key is a variable
# of the config files, resolved into the keys that use it when the file was read
READ_KEYS = frozenset((
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator',
    'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from', 'resume',
    'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer', 'default_scope',
    'randomness', 'experiment_name', 'model_wrapper_cfg', 'sync_bn', 'custom_imports',
    'tta_model', 'tta_pipeline', 'pseudo_label_dataloader', 'adabn_dataloader',
    'test_split_dataloader'))  # the last: tools/test.py --format-only
CFG_OPTIONS_EXAMPLE = 'train_cfg.max_iters=100 model.segmentor.decode_head.num_classes=11'


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction``; a token without ``=`` is named instead of failing to unpack."""

    def __call__(self, parser, namespace, values, option_string=None):
        for token in values or ():
            if '=' not in token or not token.split('=', 1)[0]:
                parser.error(f'{option_string}: {token!r} is not of the form key=value, e.g. '
                             f'{CFG_OPTIONS_EXAMPLE}')
        super().__call__(parser, namespace, values, option_string)


def add_common_args(parser):
    """Flags shared by the train and test tools (same names as mmseg's tools)."""
    parser.add_argument('--work-dir', help='the folder to save logs and checkpoints')
    parser.add_argument(
        '--cfg-options', nargs='+', action=CfgOptionsAction,
        help=f'override config keys, e.g. {CFG_OPTIONS_EXAMPLE} (a UDA config holds its network '
             'under model.segmentor)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def _keys_using(cfg, name, value):
    """Paths of the keys read by a run (under :data:`READ_KEYS`) that are named ``name`` or hold
    ``value`` (a config variable's resolved copies)."""
    informative = not (value is None or isinstance(value, bool) or value in (0, 1, '', [], {}))
    named, same = [], []

    def walk(node, path):
        items = node.items() if isinstance(node, dict) else \
            enumerate(node) if isinstance(node, (list, tuple)) else ()
        for key, child in items:
            where = f'{path}.{key}'
            if key == name:
                named.append(where)
            elif informative and type(child) is type(value) and child == value:
                same.append(where)
            else:
                walk(child, where)

    for key in sorted(set(cfg.keys()) & READ_KEYS):
        if key == name:
            continue
        if informative and type(cfg[key]) is type(value) and cfg[key] == value:
            same.append(key)
        else:
            walk(cfg[key], key)
    return named, same


def check_cfg_options(cfg, options, path):
    """Refuse ``--cfg-options`` keys that would change nothing: a top-level key that is a variable
    of the config files (e.g. ``max_iters``: its value was copied into ``train_cfg.max_iters`` when
    the file was read) or a top-level key that neither the config nor a run has.

    Raises:
        KeyError: naming the option and, for a variable, the keys to set instead.
    """
    for option in options or {}:
        top, _, rest = option.partition('.')
        if top in READ_KEYS:
            continue
        if top not in cfg:
            close = difflib.get_close_matches(top, sorted(set(cfg.keys()) | READ_KEYS), n=3)
            raise KeyError(f'--cfg-options {option}: {top!r} is not a key of config {path} and no '
                           'part of a run reads it; '
                           + (f'did you mean {" or ".join(close)}?' if close else
                              'check the spelling'))
        named, same = _keys_using(cfg, top, cfg[top])
        found = [f'{p}.{rest}' if rest else p for p in (named + same)[:6]]
        hint = f'set {" / ".join(found)} instead' if found else \
            'set the keys that use it instead'
        raise KeyError(f'--cfg-options {option}: {top!r} is a variable of config {path}, copied '
                       f'into the keys that use it when the file was read, so changing it '
                       f'changes nothing; {hint}')


_BASE_REF = re.compile(r'\{\{\s*_base_\.(\w+)')


def check_config_source(path):
    """Refuse a config file that assigns a variable and also uses ``{{_base_.<same name>}}``.

    mmengine substitutes ``{{_base_.x}}`` by the base files' ``x``, without this file's changes to
    ``x`` (they are merged only afterwards): e.g. ``segmentor = dict(decode_head=...)`` followed
    by ``model = dict(segmentor={{_base_.segmentor}})`` silently builds the base's network.

    Raises:
        ValueError: naming the file, the variable and what to write instead.
    """
    with open(path) as f:
        lines = [re.sub(r'(^|\s)#.*$', '', line) for line in f.read().splitlines()]
    statements = []  # top-level statements: a line at column 0 that does not close a bracket
    for line in lines:
        if statements and (not line[:1].strip() or line[:1] in ')]}'):
            statements[-1] += '\n' + line
        elif line.strip():
            statements.append(line)
    for name in sorted({n for s in statements for n in _BASE_REF.findall(s)}):
        assigns = re.compile(rf'{name}\s*=(?!=)')
        reexport = re.compile(rf'{name}\s*=\s*\{{\{{\s*_base_\.{name}\s*\}}\}}\s*$')
        own = [s for s in statements if assigns.match(s) and not reexport.match(s)]
        used = [s for s in statements if not assigns.match(s)
                and re.search(rf'\{{\{{\s*_base_\.{name}\s*\}}\}}', s)]
        if own and used:
            raise ValueError(
                f'config {path} assigns {name!r} and also uses {{{{_base_.{name}}}}}, which is '
                f"the base files' {name!r} without this file's changes: they would not reach the "
                'keys that use it. Override those keys instead, in a dict merged into the '
                'inherited one (e.g. model = dict(segmentor=dict(decode_head=dict(num_classes=5))))'
                ' or with --cfg-options (model.segmentor.decode_head.num_classes=5)')


def read_config(path):
    """``Config.fromfile`` with :func:`check_config_source` and a hint for the error of code that
    modifies a ``{{_base_.x}}`` placeholder (a string while the file runs)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    check_config_source(path)
    try:
        return Config.fromfile(path)
    except (TypeError, AttributeError, IndexError) as err:
        with open(path) as f:
            if not _BASE_REF.search(f.read()):
                raise
        raise ValueError(
            f'config {path} cannot be read ({type(err).__name__}: {err}). While the file runs, '
            '{{_base_.x}} is a placeholder string, not the base value: it can be assigned or put '
            'into a dict as a whole, not indexed or changed. Override keys with a dict merged into '
            'the inherited one, e.g. model = dict(segmentor=dict(decode_head=dict(num_classes=5)))'
        ) from err


def load_config(path, args):
    """Read a config, check the keys the plugin relies on, apply the common flags and add the
    :data:`GUARD_HOOKS` the config lacks.

    Raises:
        FileNotFoundError: the config file does not exist.
        KeyError: ``custom_imports`` does not import the plugin or ``default_scope`` is not mmseg;
            a ``--cfg-options`` key would change nothing (:func:`check_cfg_options`).
        ValueError: the config file misuses ``{{_base_.x}}`` (:func:`read_config`).
    """
    cfg = read_config(path)
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options, path)
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
    """Decide what the run starts from, as ``cfg.resume`` / ``cfg.load_from`` for mmengine's
    Runner, and check before anything is built that the file exists.

    Args:
        cfg (Config): the run's config; its own ``resume=True`` (e.g. ``--cfg-options resume=True
            load_from=X``) counts as ``resume=X`` (mmengine's meaning), or ``'auto'`` without
            ``load_from``.
        resume (bool | str | None): ``'auto'`` or True: the work dir's latest checkpoint (named by
            its ``last_checkpoint``); without one, the run starts from ``load_from`` or from
            scratch. A path: resume from that checkpoint. None or False: no resuming.

    Returns:
        str | None: the checkpoint the run resumes from.

    Raises:
        FileNotFoundError: naming the ``last_checkpoint`` file, the ``--resume`` checkpoint or the
            ``load_from`` key, and the path.
    """
    if not resume and cfg.get('resume'):
        resume = cfg.get('load_from') or 'auto'
    cfg.resume = False
    if resume in (True, 'auto'):
        marker = osp.join(cfg.work_dir, 'last_checkpoint')
        if osp.isfile(marker):
            with open(marker) as f:
                last = f.read().strip()
            if '://' not in last and not osp.isfile(last):
                raise FileNotFoundError(f'--resume: {marker} names checkpoint {last!r}, which '
                                        'does not exist; write the path of an existing checkpoint '
                                        'into it or delete it to start afresh')
            resume = last  # the run resumes: load_from is not used
        else:
            resume = None
    if resume:
        if '://' not in resume and not osp.isfile(osp.expanduser(resume)):
            raise FileNotFoundError(f'--resume: checkpoint {resume} does not exist')
        cfg.resume, cfg.load_from = True, resume
        return resume
    load_from = cfg.get('load_from')
    if load_from and '://' not in str(load_from) and not osp.isfile(osp.expanduser(load_from)):
        raise FileNotFoundError(f'load_from: checkpoint {load_from} does not exist')
    return None
