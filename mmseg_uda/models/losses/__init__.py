from .contrastive import negative_logsumexp, supervised_info_nce
from .domain_contrast import DomainContrast
from .region_contrast import RegionContrast

__all__ = ['supervised_info_nce', 'negative_logsumexp', 'DomainContrast', 'RegionContrast']
