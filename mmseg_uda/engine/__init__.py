from .config import add_common_args, load_config
from .ddp import DeviceAgnosticDDP, init_cpu_distributed
from .hooks import UDADebugVisualizationHook  # noqa: F401
from .optim_wrapper import CPUAmpOptimWrapper

__all__ = [
    'UDADebugVisualizationHook',
    'DeviceAgnosticDDP', 'init_cpu_distributed', 'CPUAmpOptimWrapper', 'add_common_args',
    'load_config'
]
