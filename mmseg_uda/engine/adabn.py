"""AdaBN (Li et al., "Revisiting Batch Normalization For Practical Domain Adaptation", 2016)."""
import torch
from torch.nn.modules.batchnorm import _BatchNorm


@torch.no_grad()
def adapt_bn_statistics(model, dataloader, max_batches=None):
    """Replace the running statistics of every BatchNorm of ``model`` by target-domain ones.

    AdaBN: the affine parameters stay; each BN's running mean and variance become the average of
    the batch statistics over the (unlabelled) target batches, μ = (1/K) Σ_k μ_k and
    σ² = (1/K) Σ_k σ²_k (BN momentum None: cumulative average). No gradient step is taken.
    Batches go through ``model(inputs, mode='tensor')``, i.e. the network that predicts (for a UDA
    segmentor, its ``inference_model``).

    Args:
        model (BaseSegmentor): the segmentor (with its data preprocessor).
        dataloader (Iterable): batches of the target images (labels are not needed).
        max_batches (int, optional): use at most this many batches. Default: all.

    Returns:
        int: the number of batches used.

    Raises:
        ValueError: the model has no BatchNorm layer or the dataloader yields no batch.
    """
    net = getattr(model, 'inference_model', model)  # UDA: leave the other copies alone
    bns = [m for m in net.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not bns:
        raise ValueError(f'AdaBN: {type(net).__name__} has no BatchNorm layer with running '
                         'statistics to adapt')
    was_training = model.training
    momenta = [bn.momentum for bn in bns]
    model.eval()
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average of the batch statistics
        bn.train()
    used = 0
    try:
        for batch in dataloader:
            if max_batches is not None and used >= max_batches:
                break
            data = model.data_preprocessor(batch, False)
            model(data['inputs'], mode='tensor')
            used += 1
    finally:
        for bn, momentum in zip(bns, momenta):
            bn.momentum = momentum
        model.train(was_training)
    if used == 0:
        raise ValueError('AdaBN: the target dataloader yielded no batch')
    return used
