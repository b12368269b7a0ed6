from .adabn import adapt_bn_statistics
from .config import (CfgOptionsAction, add_common_args, check_cfg_options, check_checkpoint_paths,
                     load_config, read_config)
from .ddp import DeviceAgnosticDDP, init_cpu_distributed, process_group_scope
from .hooks import (ClassCountCheckHook, ClassStatisticsInitHook, DatasetCheckHook, FiniteLossHook,
                    RandomStateHook, ResumeCheckHook, UDADebugVisualizationHook)
from .optim_wrapper import CPUAmpOptimWrapper, UDAOptimWrapperConstructor
from .pseudo_labels import (class_confidence_thresholds, confidence_histograms,
                            thresholds_from_histograms, write_pseudo_labels)

__all__ = [
    'adapt_bn_statistics', 'class_confidence_thresholds', 'confidence_histograms',
    'thresholds_from_histograms', 'write_pseudo_labels',
    'ClassCountCheckHook', 'ClassStatisticsInitHook', 'DatasetCheckHook', 'FiniteLossHook',
    'RandomStateHook',
    'UDADebugVisualizationHook',
    'DeviceAgnosticDDP', 'init_cpu_distributed', 'process_group_scope',
    'CPUAmpOptimWrapper', 'UDAOptimWrapperConstructor',
    'ResumeCheckHook', 'CfgOptionsAction', 'add_common_args', 'check_cfg_options',
    'check_checkpoint_paths', 'load_config', 'read_config'
]
