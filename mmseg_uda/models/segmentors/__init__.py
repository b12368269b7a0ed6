from .clda import CLDA
from .confeti import CONFETI
from .dacs import DACS
from .hrda import HRDAEncoderDecoder
from .rccr import RCCR
from .sdca import SDCA, SDCADACS
from .t2sda import T2SDA
from .uda_base import UDABaseSegmentor

__all__ = ['UDABaseSegmentor', 'DACS', 'CLDA', 'RCCR', 'SDCA', 'SDCADACS', 'T2SDA', 'CONFETI',
           'HRDAEncoderDecoder']
