from .adabn import adapt_bn_statistics
from .config import add_common_args, load_config
from .ddp import DeviceAgnosticDDP, init_cpu_distributed
from .hooks import RandomStateHook, UDADebugVisualizationHook
from .optim_wrapper import CPUAmpOptimWrapper, UDAOptimWrapperConstructor

__all__ = [
    'adapt_bn_statistics',
    'RandomStateHook', 'UDADebugVisualizationHook',
    'DeviceAgnosticDDP', 'init_cpu_distributed', 'CPUAmpOptimWrapper', 'UDAOptimWrapperConstructor',
    'add_common_args', 'load_config'
]
