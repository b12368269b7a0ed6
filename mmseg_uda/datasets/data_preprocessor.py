from mmseg.models import SegDataPreProcessor
from mmseg.registry import MODELS

UDA_BRANCHES = ('source', 'target')


@MODELS.register_module()
class UDADataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` for the paired batches of :class:`UDADataset`.

    A paired batch ``dict(source=dict(inputs, data_samples), target=dict(...))`` is normalised and
    padded branch by branch with mmseg's own logic and returned as
    ``dict(inputs=dict(source=Tensor, target=Tensor), data_samples=dict(source=[...], target=[...]))``
    (the multi-branch layout of mmdet's semi-supervised detectors). A plain batch (validation, test,
    supervised training) is processed exactly as ``SegDataPreProcessor`` does. Accepts the same
    arguments as ``SegDataPreProcessor``.
    """

    def forward(self, data, training=False):
        if not all(branch in data for branch in UDA_BRANCHES):
            return super().forward(data, training)
        branches = {b: super(UDADataPreProcessor, self).forward(data[b], training)
                    for b in UDA_BRANCHES}
        return dict(inputs={b: out['inputs'] for b, out in branches.items()},
                    data_samples={b: out['data_samples'] for b, out in branches.items()})
