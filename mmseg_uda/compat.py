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
"""
import glob
import importlib
import importlib.machinery
import importlib.util
import os.path as osp
import sys
import types

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
    return torch.load(filename, map_location=map_location, weights_only=False)


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


def apply_all():
    """Apply every fix. Called once from ``mmseg_uda/__init__.py`` before mmseg is imported."""
    patch_mmcv_ext()
    patch_torchvision()
    patch_checkpoint_loading()
