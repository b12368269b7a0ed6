import copy

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmseg.registry import DATASETS, HOOKS

from ...datasets.checks import check_image_folder, check_labels, loads_labels
from .class_count_check_hook import _LOOPS


@HOOKS.register_module()
class DatasetCheckHook(Hook):
    """Before the run, check that every dataset whose pipeline loads labels has its label files.

    mmseg's datasets list ``<seg_map_path>/<image stem><suffix>`` without looking at the disk, so a
    missing label folder of the val set would fail only at the first validation, hours into a run.
    Checked: the datasets of the loops the run has built (train, val; test when testing), the parts
    of a :class:`UDADataset` (its target too when its pipeline loads labels) and, when training, the
    test set, which mmengine builds only after training (built here without its pipeline work: the
    files are listed, not read).

    Raises:
        FileNotFoundError or ValueError: naming the dataset, the folder or file and the config key
            (e.g. ``val_dataloader.dataset.data_prefix.seg_map_path``).
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner):
        for key, dataset in _run_datasets(runner):
            for part_key, part in _parts(key, dataset):
                if loads_labels(part):
                    check_labels(part, require_labels=True, key=part_key)


def _run_datasets(runner):
    """(config key, dataset) of every loop of the run; the test set's from its config when the run
    trains and has not built it (unless it is the val set)."""
    training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
    for attr, key in _LOOPS:
        loop = getattr(runner, attr, None)
        if isinstance(loop, BaseLoop):
            yield f'{key}.dataset', loop.dataloader.dataset
        elif key == 'test_dataloader' and training and loop is not None:
            cfg = (getattr(runner, '_test_dataloader', None) or {}).get('dataset')
            val_cfg = (getattr(runner, '_val_dataloader', None) or {}).get('dataset')
            if isinstance(cfg, dict) and cfg != val_cfg:
                yield f'{key}.dataset', _build_listed(cfg, f'{key}.dataset')


def _build_listed(cfg, key):
    """A dataset built from its config, its files listed (no sample is loaded)."""
    dataset = DATASETS.build(dict(copy.deepcopy(cfg), lazy_init=True))
    if hasattr(dataset, 'data_prefix'):
        try:
            check_image_folder(dataset)
        except (FileNotFoundError, ValueError) as err:
            raise type(err)(f'{key}: {err}') from None
    dataset.full_init()
    return dataset


def _parts(key, dataset):
    """The datasets inside a paired UDA dataset (``source`` / ``target``), else the dataset."""
    parts = [(f'{key}.{name}', getattr(dataset, name)) for name in ('source', 'target')
             if hasattr(dataset, name)]
    return parts or [(key, dataset)]

