import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

from .random_state_hook import _get_state, _set_state


@HOOKS.register_module()
class ClassStatisticsInitHook(Hook):
    """Initialise a model's class statistics by one pass over the labelled source set before the
    first iteration (SDCA Algorithm 1, line 2: "K mean values and K covariance matrices are
    computed on the whole source domain").

    The model (e.g. :class:`SDCA`, started from the source-only checkpoint with ``load_from``) runs
    in eval mode without gradients over ``dataloader`` and merges every batch with
    ``model.update_statistics(inputs, data_samples)``. Nothing happens when the statistics are
    already there (``model.statistics_initialized``: a resumed run, or a checkpoint that carries
    them). The pass draws nothing from the training's random generators. Under DDP each rank reads
    its share of the set (the batch moments are summed over ranks; mmengine's sampler pads the last
    share by repeating a few images).

    Args:
        dataloader (dict): a dataloader config over the source images with their labels and no
            augmentation (SDCA: the training resolution, batch 1).
        max_batches (int, optional): stop after this many batches (per rank). Default: all.
    """
    priority = 'HIGH'

    def __init__(self, dataloader, max_batches=None):
        self.dataloader = dataloader
        self.max_batches = max_batches

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'update_statistics'):
            raise TypeError(f'ClassStatisticsInitHook: {type(model).__name__} has no class '
                            'statistics (update_statistics)')
        if model.statistics_initialized:
            runner.logger.info('ClassStatisticsInitHook: class statistics loaded, no pass')
            return
        state = _get_state()
        loader = runner.build_dataloader(self.dataloader, seed=runner.seed)
        was_training, used = model.training, 0
        model.eval()
        try:
            with torch.no_grad():
                for batch in loader:
                    if self.max_batches is not None and used >= self.max_batches:
                        break
                    data = model.data_preprocessor(batch, True)  # labels padded like images
                    model.update_statistics(data['inputs'], data['data_samples'])
                    used += 1
        finally:
            model.train(was_training)
            _set_state(state)
        if not model.statistics_initialized:
            raise ValueError(f'ClassStatisticsInitHook: {used} source batches gave no labelled '
                             'pixel (check the dataloader\'s labels and ignore index)')
        runner.logger.info(f'ClassStatisticsInitHook: class statistics from {used} source batches')
