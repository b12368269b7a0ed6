from .cam_head import CAMHead
from .daformer_head import DAFormerHead
from .dlv2_head import DLV2Head
from .projection_head import ProjectionHead

__all__ = ['CAMHead', 'DAFormerHead', 'DLV2Head', 'ProjectionHead']
