from .acdc import ACDCDataset
from .camvid import CamVidDataset
from .class_stats import (compute_sample_class_stats, count_label_pixels,
                          load_sample_class_stats, save_sample_class_stats)
from .dark_zurich import DarkZurichUDADataset
from .data_preprocessor import UDADataPreProcessor
from .gta import GTA5Dataset
from .rare_class_sampling import RareClassSampler, rcs_class_probs
from .synthia import SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES, SynthiaDataset
from .toy_shift import ToyShiftDataset, generate_toy_shift
from .transforms import ValidateSegLabel
from .uda_dataset import UDADataset

__all__ = [
    'ACDCDataset', 'CamVidDataset', 'DarkZurichUDADataset', 'GTA5Dataset', 'SynthiaDataset',
    'SYNTHIA_16_CLASSES', 'SYNTHIA_13_CLASSES',
    'ToyShiftDataset', 'generate_toy_shift', 'UDADataset', 'UDADataPreProcessor', 'RareClassSampler', 'rcs_class_probs',
    'ValidateSegLabel', 'compute_sample_class_stats', 'count_label_pixels',
    'load_sample_class_stats', 'save_sample_class_stats'
]
