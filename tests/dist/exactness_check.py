"""Run by tests/test_ddp_exactness.py under torchrun (2 CPU processes, gloo): ``exactness_check.py
METHOD``.

Three iterations of METHOD (dacs, dacs_mic, dacs_hrda, clda, rccr, sdca, t2sda, confeti) on global batches of 4 paired
images: one process on all 4 images, and two DDP processes with 2 each, in deterministic mode,
with every random choice of the method live (ClassMix, colour jitter and blur, affine views,
CutMix squares, MIC's block masks, HRDA's detail crops, pixel and anchor sampling, CUT's patches). Afterwards both ranks must hold the
single-process parameters and every stateful buffer (EMA teacher, memories, prototypes, class
statistics, CUT networks), within 1e-5 (``float64`` as second argument: every tensor, optimiser
moments and the CUT networks' outputs included, within 1e-6). GroupNorm instead of BatchNorm: BN statistics are those of each
device's batch by definition (SyncBN needs GPUs).
"""
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from mmengine.optim import OptimWrapper  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

from mmseg_uda.engine import DeviceAgnosticDDP  # noqa: E402
from test_dacs import build_dacs, paired_batch, tiny_segmentor  # noqa: E402

GLOBAL_BATCH, RANKS, ITERS = 4, 2, 3


def gn_segmentor():
    seg = tiny_segmentor()
    seg['backbone']['norm_cfg'] = dict(type='GN', num_groups=4)
    seg['decode_head']['norm_cfg'] = dict(type='GN', num_groups=4)
    return seg


# the source CE of SDCA's and RCCR's configs averages over the labelled pixels (their authors' code)
NON_IGNORE_MEAN = ('rccr', 'sdca')


def build(method):
    """(model, optim wrapper factory, find_unused_parameters) of ``method`` at test size."""
    seg = gn_segmentor()
    if method in NON_IGNORE_MEAN:
        seg['decode_head']['loss_decode'] = dict(type='CrossEntropyLoss', avg_non_ignore=True)
    sgd = lambda m: OptimWrapper(torch.optim.SGD(m.student.parameters(), lr=0.1))  # noqa: E731
    if method == 'dacs':
        return build_dacs(segmentor=seg, pseudo_threshold=0.3), sgd, False
    if method == 'dacs_hrda':  # HRDA's detail boxes drawn live; GN, no dropout / DropPath
        from test_hrda_uda import build as build_hrda_dacs, hrda_segmentor
        hrda = hrda_segmentor()
        hrda['decode_head']['head'].update(norm_cfg=dict(type='GN', num_groups=4),
                                           dropout_ratio=0.0)
        hrda['backbone']['drop_path_rate'] = 0.0
        return build_hrda_dacs(segmentor=hrda), sgd, False
    if method == 'dacs_mic':  # MIC's block masks and colour augmentation drawn live; q = 1
        return build_dacs(segmentor=seg, pseudo_threshold=0.01,
                          masked_consistency=dict(block_size=8)), sgd, False
    if method == 'clda':
        from test_clda import build_clda
        return build_clda(segmentor=seg), sgd, False
    if method == 'rccr':
        from test_rccr import build_rccr
        return build_rccr(segmentor=seg), sgd, True
    if method == 'sdca':
        from test_sdca import build_sdca
        return build_sdca(segmentor=seg), sgd, False
    if method == 't2sda':
        from test_t2sda import PROJECTOR, build_t2sda
        projector = dict(PROJECTOR, norm_cfg=dict(type='GN', num_groups=4))
        return build_t2sda(segmentor=seg, projection_head=projector), sgd, True
    if method == 'confeti':
        from test_confeti import build_confeti, optim
        model = build_confeti(segmentor=seg)
        model.teacher.steps.fill_(5)  # every loss and gate active
        return model, lambda m: optim(m, lr=0.1), True
    raise ValueError(f'unknown method {method!r}')


def batches(method):
    from test_clda import blocky_batch  # pure feature cells for CLDA's contrast
    make = blocky_batch if method == 'clda' else paired_batch
    if method == 'dacs_hrda':
        from test_hrda_uda import paired_batch as make  # 64x64 context crops
    out = [make(b=GLOBAL_BATCH, seed=10 * it + 1) for it in range(ITERS)]
    if method in NON_IGNORE_MEAN:  # ranks hold different numbers of labelled pixels
        for batch in out:
            for i, ds in enumerate(batch['source']['data_samples']):
                ds.gt_sem_seg.data[..., :4 + 3 * i, :] = 255
    return out


def rank_share(batch, rank):
    n = GLOBAL_BATCH // RANKS
    return {d: {k: v[rank * n:(rank + 1) * n] for k, v in batch[d].items()} for d in batch}


def train(method, split=None):
    torch.manual_seed(0)  # the run's seed: initial weights and the shared draws
    model, make_optim, unused = build(method)
    ow = make_optim(model)
    runner = model
    if split is not None:
        runner = DeviceAgnosticDDP(module=model, broadcast_buffers=False,
                                   find_unused_parameters=unused)
    for it, batch in enumerate(batches(method)):
        log = runner.train_step(batch if split is None else rank_share(batch, split), ow)
        if os.environ.get('EXACTNESS_DEBUG'):  # per-iteration losses, to find the first that differs
            print(f'[{"single" if split is None else f"rank {split}"}] iteration {it}: '
                  + ', '.join(f'{k}={float(v):.6f}' for k, v in sorted(log.items())))
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    names = {id(p): n for n, p in model.named_parameters()}
    wrappers = ow.items() if hasattr(ow, 'items') else [('student', ow)]
    for _, wrapper in wrappers:  # momenta / Adam moments, by parameter name
        for param, s in wrapper.optimizer.state.items():
            state.update({f'optim.{names[id(param)]}.{k}': v.clone() for k, v in s.items()
                          if torch.is_tensor(v) and v.dim() > 0})
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 32, 32, generator=g, dtype=torch.get_default_dtype()) * 2 - 1
    for net in ('generator', 'discriminator'):  # what the networks compute, not only weights
        if getattr(model, net, None) is not None:
            with torch.no_grad():
                state[f'output.{net}'] = getattr(model, net)(x)
    return state, invariant_biases(model)


def invariant_biases(model):
    """Biases of convolutions followed by an InstanceNorm without affine parameters (CUT's
    networks): the norm subtracts them again, their exact gradient is 0 and any value gives the
    same function. In float32 their gradient is rounding noise, which Adam normalises into
    full-size steps; they are compared through the networks' outputs instead."""
    keys = []
    for name, module in model.named_modules():
        if not isinstance(module, torch.nn.Sequential):
            continue
        children = list(module.named_children())
        for (i, conv), (_, norm) in zip(children, children[1:]):
            if isinstance(conv, torch.nn.Conv2d) and conv.bias is not None and \
                    isinstance(norm, torch.nn.InstanceNorm2d) and not norm.affine:
                keys.append(f'{name}.{i}.bias')
    return {k for key in keys for k in (key, f'optim.{key}.exp_avg', f'optim.{key}.exp_avg_sq')}


def main():
    method, dtype = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else 'float32')
    # float32: parameters and buffers to 1e-5. float64 parameters and inputs (losses keep float64,
    # models/utils/precision.py) push rounding noise far enough down that every tensor must agree
    # to 1e-6: optimiser moments, the biases above and the CUT networks' outputs included.
    torch.set_default_dtype(getattr(torch, dtype))
    tol = 1e-6 if dtype == 'float64' else 1e-5
    register_all_modules(init_default_scope=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    reference, invariant = train(method)  # one process, global batch; before the group exists
    untrained = build(method)[0].state_dict()
    moved = max((reference[k].double() - v.double()).abs().max().item()
                for k, v in untrained.items() if k.startswith('student.') and v.is_floating_point())
    assert moved > 1e-3, f'the reference run did not train (max change {moved})'
    skip = set() if dtype == 'float64' else invariant | {
        k for k in reference if k.startswith(('optim.', 'output.'))}

    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    state, _ = train(method, split=rank)
    bad, compared = [], 0
    for key, ref in reference.items():
        if key in skip:
            continue
        compared += 1
        value = state.get(key)
        if value is None or value.shape != ref.shape:
            bad.append(f'{key}: missing or shape {None if value is None else tuple(value.shape)} '
                       f'vs {tuple(ref.shape)}')
            continue
        if not torch.allclose(value.double(), ref.double(), rtol=tol, atol=tol):
            err = (value.double() - ref.double()).abs().max().item()
            scale = ref.double().abs().max().item()
            bad.append(f'{key}: max |DDP - single| = {err:.3g} (max |single| = {scale:.3g})')
    lines = [f'rank {rank}: {compared} tensors compared ({dtype}, tolerance {tol:g}), '
             f'{len(bad)} differ'] + bad[:40]
    out = [None] * RANKS
    dist.all_gather_object(out, lines)
    if rank == 0:
        print('\n'.join(line for part in out for line in part))
        if not any(len(part) > 1 for part in out):
            print(f'{method.upper()}_EXACT_OK')
    dist.barrier()
    sys.stdout.flush()
    os._exit(0)  # gloo's process-group teardown can hang at exit; all checks are done here


if __name__ == '__main__':
    main()
