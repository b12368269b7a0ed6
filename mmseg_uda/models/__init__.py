from . import decode_heads  # noqa: F401
from . import segmentors  # noqa: F401
from . import style  # noqa: F401
from .style import cut_translator  # noqa: F401  (CUTTranslator, CONFETI stage 0)
from . import backbones  # noqa: F401  (SegFormerMiT)
