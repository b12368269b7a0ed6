"""Compatibility fixes for the pinned stack on current torch / numpy.

The stack is torch 2.13, mmengine 0.10.7, mmcv(-lite) 2.1.0, mmsegmentation 1.2.2. Each fix below is
idempotent, is applied by :func:`apply_all` when ``mmseg_uda`` is imported (before any mmseg module),
and is a no-op where the problem does not exist:

1. :func:`patch_mmcv_ext` - mmseg 1.2.2 imports ``mmcv.ops`` at module level, which needs the compiled
   ``mmcv._ext``. mmcv-lite has none, so we register a placeholder module: importing works, and calling
   any compiled op raises :class:`MissingMMCVOpError` naming the op and the install line for full mmcv.
2. :func:`patch_checkpoint_loading` - torch >= 2.6 loads with ``weights_only=True`` by default, but the
   checkpoints mmengine's Runner writes hold numpy scalars and ``HistoryBuffer`` objects, so resume,
   ``load_from`` and ``tools/test.py`` fail. We re-register mmengine's local-file loader with
   ``weights_only=False`` (checkpoints are trusted files written by the user's own runs).
3. :func:`patch_torchvision` - torchvision from the registry is built against CUDA torch; beside the CPU
   torch wheel its ``_C`` library does not load, and ``import torchvision`` (which mmengine attempts when it
   collects the environment at every Runner start) dies with ``operator torchvision::nms does not exist``.
   We do not depend on torchvision; where a broken one is installed we declare the two operator schemas it
   needs so it imports (its compiled ops stay unavailable).
4. :func:`patch_atomic_writes` - mmengine writes checkpoints (and every other file of its local file
   backend) straight to the final path, and ``CheckpointHook`` deletes the oldest kept checkpoint (and the
   previous best) *before* writing the new one: a crash or kill during the write leaves a truncated
   ``iter_N.pth``, and ``last_checkpoint`` may point to a deleted file. We write to a temporary file in the
   same folder and ``os.replace`` it, and delete old checkpoints only after the new one is written.
   A checkpoint outside the run's work dir is never deleted (a copied work dir, or another run's
   checkpoint resumed from, carries absolute paths of that run's best checkpoint), and the temporary
   file of a killed write is deleted at the next save.
5. :func:`patch_checked_loading` - mmengine's ``Runner.load_checkpoint`` (``load_from``, ``--resume``,
   ``tools/test.py``) loads non-strictly and only logs missing keys and shape mismatches, so a checkpoint
   of another model silently leaves (part of) the network at random weights. We raise instead, naming
   the checkpoint and the keys (see :func:`load_state_dict_checked`); a truncated or corrupt checkpoint
   file raises naming the file instead of a pickle/zip traceback.
"""
import glob
import importlib
import importlib.machinery
import importlib.util
import os
import os.path as osp
import pickle
import re
import sys
import types
import uuid
from collections import OrderedDict

import torch

MMCV_OPS_INSTALL = 'mim install "mmcv>=2.0.0,<2.2.0"'


class MissingMMCVOpError(RuntimeError):
    """A compiled mmcv op was called but only mmcv-lite (no ``mmcv._ext``) is installed."""


class _MissingExtModule(types.ModuleType):
    """Stand-in for ``mmcv._ext``: every public attribute is an op that raises when called."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)

        def _missing_op(*args, **kwargs):
            raise MissingMMCVOpError(
                f'mmcv compiled op "{name}" is not available: the installed mmcv has no compiled '
                f'ops (mmcv-lite). Install mmcv with ops: {MMCV_OPS_INSTALL}')

        _missing_op.__name__ = name
        return _missing_op


def mmcv_ext_available():
    """True when the real compiled ``mmcv._ext`` is importable."""
    ext = sys.modules.get('mmcv._ext')
    if isinstance(ext, _MissingExtModule):
        return False
    try:
        importlib.import_module('mmcv._ext')
        return True
    except ImportError:
        return False


def patch_mmcv_ext():
    """Install the ``mmcv._ext`` placeholder if the compiled ops are absent. Returns True if installed."""
    if mmcv_ext_available():
        return False
    if isinstance(sys.modules.get('mmcv._ext'), _MissingExtModule):
        return True
    stub = _MissingExtModule('mmcv._ext')
    # A loader-less spec keeps importlib.util.find_spec working, so mmengine's mmcv_full_available()
    # returns False instead of raising "mmcv._ext.__spec__ is None".
    stub.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)
    sys.modules['mmcv._ext'] = stub
    return True


def load_local_checkpoint(filename, map_location=None):
    """mmengine's local checkpoint loader with ``weights_only=False`` (see module docstring, fix 2)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} can not be found.')
    try:
        return torch.load(filename, map_location=map_location, weights_only=False)
    except (RuntimeError, EOFError, ValueError, OSError, ImportError, AttributeError,
            pickle.UnpicklingError) as err:
        raise RuntimeError(
            f'checkpoint file {filename} ({osp.getsize(filename)} bytes) cannot be read: it is '
            f'truncated or not a torch checkpoint ({type(err).__name__}: {err}). If an interrupted '
            'run left it, delete it (and point last_checkpoint in its work dir to an earlier '
            'checkpoint)') from err


def patch_checkpoint_loading():
    """Route mmengine's loads of local files (resume, load_from, test) through the loader above."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(load_local_checkpoint)


_TORCHVISION_SCHEMAS = {
    'nms': 'nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
    'qnms': 'qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor',
}
_torchvision_lib = None


def _torchvision_op_defined(name):
    try:
        getattr(torch.ops.torchvision, name).default
        return True
    except (AttributeError, RuntimeError):
        return False


def patch_torchvision(package_dir=None):
    """Make a torchvision whose compiled library cannot load importable. Returns True if patched.

    Args:
        package_dir (str, optional): torchvision's package folder; found with importlib by default.
    """
    global _torchvision_lib
    if package_dir is None:
        spec = importlib.util.find_spec('torchvision')
        if spec is None or not spec.submodule_search_locations:
            return False  # not installed: nothing to fix, we do not need it
        package_dir = list(spec.submodule_search_locations)[0]
    libraries = glob.glob(osp.join(package_dir, '_C*.so'))
    try:
        for lib in libraries:
            torch.ops.load_library(lib)
        return False
    except (OSError, RuntimeError):
        pass
    missing = [n for n in _TORCHVISION_SCHEMAS if not _torchvision_op_defined(n)]
    if missing:
        if _torchvision_lib is None:
            _torchvision_lib = torch.library.Library('torchvision', 'FRAGMENT')
        for name in missing:
            _torchvision_lib.define(_TORCHVISION_SCHEMAS[name])
    return True


def atomic_put(obj, filepath, mode='wb', encoding=None):
    """Write ``obj`` to ``filepath`` through a temporary file in the same folder and ``os.replace``:
    readers see the old file or the complete new one, never a partial write."""
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(filepath)}.{uuid.uuid4().hex[:8]}.tmp')
    try:
        # os.open honours the umask, as a plain open() of the final path would
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), mode,
                       encoding=encoding) as f:
            f.write(obj)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


_TMP_NAME = re.compile(r'^\..+\.[0-9a-f]{8}\.tmp$')  # atomic_put's temporary files


def _inside(path, folders):
    """Whether local ``path`` lies in one of ``folders`` (symbolic links resolved)."""
    path = osp.realpath(path)
    return any(osp.commonpath([path, osp.realpath(f)]) == osp.realpath(f) for f in folders)


class _DeferredRemoval:
    """A file backend whose ``remove``/``rmtree`` are recorded instead of done (see fix 4), and
    to which local files outside ``folders`` do not exist: a checkpoint of another run, named by
    a record restored from a copied work dir or another run's checkpoint (``best_ckpt``), is
    never deleted."""

    def __init__(self, backend, folders):
        self._backend, self.pending, self.folders, self.foreign = backend, [], folders, []

    def _foreign(self, path):
        path = str(path)
        if '://' in path or _inside(path, self.folders):
            return False
        if path not in self.foreign:
            self.foreign.append(path)
        return True

    def isfile(self, path):
        return not self._foreign(path) and self._backend.isfile(path)

    def isdir(self, path):
        return not self._foreign(path) and self._backend.isdir(path)

    def remove(self, path):
        if not self._foreign(path):
            self.pending.append((self._backend.remove, path))

    def rmtree(self, path):
        if not self._foreign(path):
            self.pending.append((self._backend.rmtree, path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


def remove_stale_temporaries(folder):
    """Delete the temporary files of :func:`atomic_put` in ``folder`` (left by a killed write).
    Called by the process that writes the checkpoints, right after it saved one."""
    from mmengine.logging import print_log
    if '://' in str(folder) or not osp.isdir(folder):
        return
    for name in sorted(os.listdir(folder)):
        if _TMP_NAME.match(name):
            os.remove(osp.join(folder, name))
            print_log(f'removed {osp.join(folder, name)}, the partial file of an interrupted '
                      'checkpoint write', logger='current', level=30)


def _remove_after_saving(method):
    def wrapped(self, runner, *args, **kwargs):
        from mmengine.dist import is_main_process
        from mmengine.logging import print_log
        backend = getattr(self, 'file_backend', None)
        if backend is None:
            return method(self, runner, *args, **kwargs)
        folders = [runner.work_dir, self.out_dir]
        self.file_backend = deferred = _DeferredRemoval(backend, folders)
        try:
            result = method(self, runner, *args, **kwargs)
        finally:
            self.file_backend = backend
        for remove, path in deferred.pending:  # reached only when the new checkpoint is written
            remove(path)
        for path in deferred.foreign:
            print_log(f'kept {path}: it is outside this run\'s work dir {runner.work_dir} '
                      '(a record from a copied work dir or from another run\'s checkpoint); a '
                      'run deletes no file outside its work dir', logger='current', level=30)
        if is_main_process():  # the one process that writes checkpoints, its write done
            remove_stale_temporaries(self.out_dir)
        return result
    wrapped.__wrapped__ = method
    return wrapped


def patch_atomic_writes():
    """Fix 4: atomic writes of mmengine's local file backend, removal of old checkpoints after saving."""
    from mmengine.fileio.backends import LocalBackend
    from mmengine.hooks import CheckpointHook
    if getattr(LocalBackend.put, '_atomic', False):
        return

    def put(self, obj, filepath):
        atomic_put(obj, filepath)

    def put_text(self, obj, filepath, encoding='utf-8'):
        atomic_put(obj, filepath, 'w', encoding)

    put._atomic = put_text._atomic = True
    LocalBackend.put, LocalBackend.put_text = put, put_text
    for name in ('_save_checkpoint_with_step', '_save_best_checkpoint'):
        setattr(CheckpointHook, name, _remove_after_saving(getattr(CheckpointHook, name)))


def _shorten(keys, n=6):
    keys = sorted(keys)
    return f'{keys[:n]}' + (f' and {len(keys) - n} more' if len(keys) > n else '')


def load_state_dict_checked(model, checkpoint, filename, revise_keys=((r'^module\.', ''), )):
    """Load a checkpoint into ``model`` non-strictly, but raise where mmengine would only warn.

    Unexpected keys (e.g. another method's extra heads) and a network part absent from the
    checkpoint as a whole (e.g. CONFETI's stage 1 loading only the CUT translator, the segmenter
    keeping its ImageNet initialisation) are logged. The segmentation network (see
    :func:`_network_prefixes`) must come from the checkpoint completely or not at all.

    Raises:
        RuntimeError: a shape differs (e.g. another ``num_classes``), the network is loaded only
            partly, or no key of the checkpoint fits the model; the message names ``filename`` and
            the keys.
    """
    from mmengine.logging import print_log
    state_dict = checkpoint.get('state_dict', checkpoint)
    metadata = getattr(state_dict, '_metadata', OrderedDict())
    for pattern, repl in revise_keys:
        state_dict = OrderedDict((re.sub(pattern, repl, k), v) for k, v in state_dict.items())
    state_dict._metadata = metadata
    name = type(model).__name__
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as err:
        lines = [line.strip() for line in str(err).splitlines() if 'size mismatch' in line]
        raise RuntimeError(f'checkpoint {filename} does not fit the {name} model: '
                           + ('; '.join(lines) if lines else str(err))) from None
    expected = [k for k in model.state_dict() if not k.endswith('num_batches_tracked')]
    missing = set(result.missing_keys)
    core = _network_prefixes(model)
    core_keys = [k for k in expected if k.startswith(core)]
    core_missing = [k for k in core_keys if k in missing]
    # parameters, not every key: a UDA model fills in its counters (draw_seed, steps_done, the
    # teacher's steps) for a plain segmentor checkpoint, so they are never missing
    params = [k for k, _ in model.named_parameters()]
    if len(missing & set(expected)) == len(expected) or (params and missing.issuperset(params)):
        prefixes = sorted({k.split('.')[0] for k in state_dict})
        raise RuntimeError(f'checkpoint {filename} fits no parameter of the {name} model: its '
                           f'keys start with {prefixes}, the model expects e.g. '
                           f'{_shorten(params or expected, 3)} (a checkpoint of another model?)')
    if core_missing and len(core_missing) < len(core_keys):
        raise RuntimeError(f'checkpoint {filename} holds only part of the {name} network: '
                           f'{len(core_missing)} of {len(core_keys)} tensors missing, e.g. '
                           f'{_shorten(core_missing)}; they would stay at random weights')
    other_missing = sorted({k.split('.')[0] for k in missing if k in expected})
    if other_missing:
        print_log(f'checkpoint {filename}: no weights for {other_missing}, kept as initialised',
                  logger='current', level=30)
    if result.unexpected_keys:
        unused = sorted({'.'.join(k.split('.')[:2]) for k in result.unexpected_keys})
        print_log(f'checkpoint {filename}: {len(result.unexpected_keys)} keys not in the {name} '
                  f'model ignored, under {_shorten(unused, 10)}', logger='current', level=30)
    return checkpoint


_SEGMENTOR_PARTS = ('backbone', 'neck', 'decode_head', 'auxiliary_head')


def _network_prefixes(model):
    """Key prefixes of the segmentation network: a UDA model's student and teacher network, an
    mmseg segmentor's backbone/neck/heads, else the whole model. Extra heads of a method (e.g. a
    CAM or projection head) are not part of it: a warm start may lack them."""
    student = getattr(model, 'student', None)
    if student is not None:
        teacher = getattr(model, 'teacher', None)
        nets = {'student.': student}
        if teacher is not None:
            inner = getattr(teacher, 'module', None)
            nets['teacher.module.' if inner is not None else 'teacher.'] = \
                inner if inner is not None else teacher
    else:
        nets = {'': model}
    prefixes = []
    for prefix, net in nets.items():
        parts = [p for p in _SEGMENTOR_PARTS if getattr(net, p, None) is not None]
        prefixes += [f'{prefix}{p}.' for p in parts] if parts else [prefix]
    return tuple(prefixes)


def patch_checked_loading():
    """Fix 5: ``Runner.load_checkpoint`` through :func:`load_state_dict_checked`."""
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner
    from mmengine.runner.checkpoint import _load_checkpoint
    if getattr(Runner.load_checkpoint, '_checked', False):
        return

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module.', '')]):  # noqa: B006 (mmengine's signature)
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if strict:
            from mmengine.runner.checkpoint import _load_checkpoint_to_model
            _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        else:
            load_state_dict_checked(model, checkpoint, filename, revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    load_checkpoint._checked = True
    Runner.load_checkpoint = load_checkpoint


def apply_all():
    """Apply every fix. Called once from ``mmseg_uda/__init__.py`` before mmseg is imported."""
    patch_mmcv_ext()
    patch_torchvision()
    patch_checkpoint_loading()
    patch_atomic_writes()
    patch_checked_loading()
