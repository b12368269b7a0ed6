from .clda import CLDA
from .dacs import DACS
from .rccr import RCCR
from .sdca import SDCA, SDCADACS
from .uda_base import UDABaseSegmentor

__all__ = ['UDABaseSegmentor', 'DACS', 'CLDA', 'RCCR', 'SDCA', 'SDCADACS']
