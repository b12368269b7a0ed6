from .blur import RandomGaussianBlur
from .validate import ValidateSegLabel

__all__ = ['RandomGaussianBlur', 'ValidateSegLabel']
