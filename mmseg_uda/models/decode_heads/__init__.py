from .daformer_head import DAFormerHead
from .dlv2_head import DLV2Head
from .projection_head import ProjectionHead

__all__ = ['DAFormerHead', 'DLV2Head', 'ProjectionHead']
