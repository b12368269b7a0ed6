from .clda import CLDA
from .dacs import DACS
from .uda_base import UDABaseSegmentor

__all__ = ['UDABaseSegmentor', 'DACS', 'CLDA']
