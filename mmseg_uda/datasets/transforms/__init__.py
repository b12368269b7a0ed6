from .blur import RandomGaussianBlur
from .cut_stylize import CUTStylize
from .fda import FDA
from .validate import ValidateSegLabel

__all__ = ['CUTStylize', 'FDA', 'RandomGaussianBlur', 'ValidateSegLabel']
