from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS


@HOOKS.register_module()
class ResumeCheckHook(Hook):
    """Refuse to "train" a resumed run whose schedule ends before the iteration it resumed at.

    mmengine's loop would skip training, run the end-of-training hooks and exit with success,
    so a run resumed with ``train_cfg.max_iters`` below the iterations done would look finished
    having trained nothing. A run resumed exactly at its end gets a warning (nothing to do).
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner):
        done, total = runner.iter, runner.max_iters
        if done == 0 or done < total:
            return
        from mmengine.runner import EpochBasedTrainLoop
        key = 'train_cfg.max_epochs' if isinstance(runner.train_loop, EpochBasedTrainLoop) \
            else 'train_cfg.max_iters'
        if done > total:
            raise ValueError(f'resumed at iteration {done}, beyond the end of the schedule '
                             f'({key} gives {total} iterations): nothing would be trained; '
                             f'set {key} (and the schedulers\' ends) past iteration {done}')
        print_log(f'resumed at iteration {done}, the end of the schedule ({key}): nothing to '
                  'train; raise it to train longer', logger='current', level=30)
