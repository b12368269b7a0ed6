from .class_statistics_hook import ClassStatisticsInitHook
from .random_state_hook import RandomStateHook
from .uda_debug_hook import UDADebugVisualizationHook, make_debug_grid

__all__ = ['ClassStatisticsInitHook', 'RandomStateHook', 'UDADebugVisualizationHook', 'make_debug_grid']
