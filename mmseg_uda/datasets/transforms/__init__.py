from .blur import RandomGaussianBlur
from .fda import FDA
from .validate import ValidateSegLabel

__all__ = ['FDA', 'RandomGaussianBlur', 'ValidateSegLabel']
