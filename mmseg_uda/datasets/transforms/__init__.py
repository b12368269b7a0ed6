from .validate import ValidateSegLabel

__all__ = ['ValidateSegLabel']
