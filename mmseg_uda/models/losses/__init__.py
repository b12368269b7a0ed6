from .contrastive import negative_logsumexp, supervised_info_nce
from .decode_losses import decode_losses
from .distribution_contrast import DistributionContrast, distribution_contrast
from .domain_contrast import DomainContrast
from .prototype_contrast import (AffineProjection, diversity_regularizer,
                                 pixel_prototype_contrast, semantic_consistency_loss)
from .pull_contrast import PullContrast, dynamic_class_weights
from .region_contrast import RegionContrast

__all__ = ['decode_losses', 'supervised_info_nce', 'negative_logsumexp', 'distribution_contrast',
           'DistributionContrast', 'DomainContrast', 'RegionContrast', 'PullContrast',
           'dynamic_class_weights', 'pixel_prototype_contrast', 'diversity_regularizer',
           'semantic_consistency_loss', 'AffineProjection']
