from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS

_LOOPS = (('_train_loop', 'train_dataloader'), ('_val_loop', 'val_dataloader'),
          ('_test_loop', 'test_dataloader'))


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Before the run, check that the segmentor's heads predict as many classes as every built
    dataset has (``metainfo.classes``).

    Fewer head outputs than dataset classes would crash deep in the loss ("Target 18 is out of
    bounds", a device-side assert on GPUs): raises ``ValueError`` naming both config keys and both
    numbers. More outputs train (the extra classes are never targets) but the IoU metric ignores
    pixels predicted as them: logged as a warning with the same message.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        heads = _head_classes(model)
        if not heads:
            return
        for attr, key in _LOOPS:
            dataset = getattr(getattr(getattr(runner, attr, None), 'dataloader', None),
                              'dataset', None)
            classes = getattr(dataset, 'metainfo', {}).get('classes') if dataset else None
            if not classes:
                continue
            for head_key, num in heads.items():
                if num == len(classes):
                    continue
                msg = (f'{head_key} = {num}, but {key}.dataset ({type(dataset).__name__}) has '
                       f'{len(classes)} classes (metainfo.classes {list(classes)}); set them equal')
                if num < len(classes):
                    raise ValueError(msg)
                print_log(msg, logger='current', level=30)


def _head_classes(model):
    """{config key: num_classes} of the decode and auxiliary heads of a (UDA) segmentor."""
    prefix, seg = 'model.', model
    if getattr(model, 'student', None) is not None:
        prefix, seg = 'model.segmentor.', model.student
    heads = {}
    decode = getattr(seg, 'decode_head', None)
    if getattr(decode, 'num_classes', None) is not None:
        heads[f'{prefix}decode_head.num_classes'] = decode.num_classes
    aux = getattr(seg, 'auxiliary_head', None)
    aux = list(aux) if hasattr(aux, '__iter__') else [aux]
    for i, head in enumerate(aux):
        if getattr(head, 'num_classes', None) is not None:
            key = 'auxiliary_head' + (f'.{i}' if len(aux) > 1 else '')
            heads[f'{prefix}{key}.num_classes'] = head.num_classes
    return heads
