from .config import add_common_args, load_config
from .ddp import DeviceAgnosticDDP, init_cpu_distributed
from .optim_wrapper import CPUAmpOptimWrapper

__all__ = [
    'DeviceAgnosticDDP', 'init_cpu_distributed', 'CPUAmpOptimWrapper', 'add_common_args',
    'load_config'
]
