from .cam_head import CAMHead
from .daformer_head import DAFormerHead
from .dlv2_head import DLV2Head
from .hrda_head import HRDAHead
from .projection_head import ProjectionHead

__all__ = ['CAMHead', 'DAFormerHead', 'DLV2Head', 'HRDAHead', 'ProjectionHead']
