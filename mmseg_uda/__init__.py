"""mmseg-uda: unsupervised domain adaptation for semantic segmentation on mmsegmentation 1.x.

Importing this package (``custom_imports=dict(imports=['mmseg_uda'])``) applies the compatibility fixes
of :mod:`mmseg_uda.compat` and registers every dataset, transform, model, metric and hook into mmseg's
registries.
"""
from .compat import apply_all as _apply_compat

_apply_compat()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402,F401
