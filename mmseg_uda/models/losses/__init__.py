from .contrastive import negative_logsumexp, supervised_info_nce
from .distribution_contrast import DistributionContrast, distribution_contrast
from .domain_contrast import DomainContrast
from .pull_contrast import PullContrast, dynamic_class_weights
from .region_contrast import RegionContrast

__all__ = ['supervised_info_nce', 'negative_logsumexp', 'distribution_contrast',
           'DistributionContrast', 'DomainContrast', 'RegionContrast', 'PullContrast',
           'dynamic_class_weights']
