from .uda_debug_hook import UDADebugVisualizationHook, make_debug_grid

__all__ = ['UDADebugVisualizationHook', 'make_debug_grid']
