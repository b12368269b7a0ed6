from .contrastive import supervised_info_nce
from .domain_contrast import DomainContrast

__all__ = ['supervised_info_nce', 'DomainContrast']
