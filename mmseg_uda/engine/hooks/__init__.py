from .class_count_check_hook import ClassCountCheckHook
from .class_statistics_hook import ClassStatisticsInitHook
from .dataset_check_hook import DatasetCheckHook
from .finite_loss_hook import FiniteLossHook
from .random_state_hook import RandomStateHook
from .resume_check_hook import ResumeCheckHook
from .uda_debug_hook import UDADebugVisualizationHook, make_debug_grid

__all__ = ['ClassCountCheckHook', 'ClassStatisticsInitHook', 'DatasetCheckHook', 'FiniteLossHook',
           'RandomStateHook', 'ResumeCheckHook', 'UDADebugVisualizationHook', 'make_debug_grid']
