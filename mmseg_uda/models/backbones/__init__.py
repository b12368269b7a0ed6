from .segformer_mit import SegFormerMiT

__all__ = ['SegFormerMiT']
