"""Iteration time and peak memory of a UDA step against a supervised mmseg step, same model and batch.

    python benchmarks/speed.py CONFIG [CONFIG ...] [--batch 2] [--iters 10] [--device cuda]
        [--size H W] [--reference DACS_CONFIG] [--baseline SUPERVISED_CONFIG]
        [--cfg-options k=v ...] [--tag NAME] [--out benchmarks/results/speed.json]

For each UDA config, the supervised step is its student segmentor (``model.segmentor``) trained with
``train_step`` on the source half of the batch; the UDA step is the segmentor's own ``train_step``
on the paired batch (same batch size per domain). A supervised config (a plain segmentor as
``model``, e.g. ``configs/benchmarks/hrda/*.py``) has only the supervised step. Both use the
config's optimiser. Inputs are random, at each config's own crop size (its data preprocessor's
``size``) unless ``--size`` sets one for all: HRDA's full-resolution context crops are twice the
side of DAFormer's downscaled crops, as in training. Pretrained weights are not loaded. Peak
memory: CUDA max allocated, or on CPU the growth of the peak RSS of a fresh process from before the
model is built (glibc's mmap threshold fixed, so freed tensors leave the RSS:
:func:`track_live_cpu_memory`). Results are merged into ``--out`` as
``{name: {step_s, peak_mem_mb, ratio_to_supervised, ratio_to_dacs, mem_ratio_to_dacs}}``; the DACS
reference is the config itself when it is DACS, else ``--reference`` (a DACS config on the same
network, measured on the same random data). ``--baseline`` (a supervised config, e.g. DAFormer
for HRDA) adds ``ratio_to_baseline`` and ``mem_ratio_to_baseline`` to every row, against its
supervised step. On CPU rows also hold ``cpu_s``, the measuring process's CPU time per step (all
its threads), and ``cpu_ratio_to_*``: other load on the machine inflates them much less than the
wall time; run with ``OMP_NUM_THREADS=1`` (no threads spinning while they wait) on a busy machine.

HRDA vs DAFormer (tiny networks on CPU, every size of the papers' divided by 8)::

    OMP_NUM_THREADS=1 python benchmarks/speed.py \
        configs/benchmarks/hrda/daformer_tiny_toy_shift.py \
        configs/benchmarks/hrda/hrda_tiny_toy_shift.py \
        --baseline configs/benchmarks/hrda/daformer_tiny_toy_shift.py --device cpu
"""
import argparse
import json
import multiprocessing as mp
import os
import os.path as osp
import resource
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402


def no_pretrained(cfg):
    if isinstance(cfg, dict):
        if cfg.get('type') == 'Pretrained':
            return None
        return type(cfg)({k: no_pretrained(v) for k, v in cfg.items()})
    if isinstance(cfg, list):
        return [no_pretrained(v) for v in cfg]
    return cfg


def branch(batch, size, num_classes, labels, gen):
    h, w = size
    samples = []
    for _ in range(batch):
        ds = SegDataSample()
        ds.set_metainfo(dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        if labels:
            ds.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, h, w), generator=gen))
        samples.append(ds)
    inputs = [torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
              for _ in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


def track_live_cpu_memory():
    """Make the peak RSS of CPU child processes follow live tensor memory: with glibc's dynamic mmap
    threshold, freed large blocks stay in the heap and the RSS of chunked computations reads as if
    nothing had been freed. A fixed 128 KiB threshold maps every large tensor separately and returns
    it to the system when freed. Call before starting the measuring processes."""
    os.environ.setdefault('MALLOC_MMAP_THRESHOLD_', '131072')


def in_fresh_process(fn, *args):
    """``fn(*args)`` in a new spawned process (its peak RSS starts from an empty interpreter)."""
    with mp.get_context('spawn').Pool(1) as pool:
        return pool.apply(fn, args)


def peak_mb(device):
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_steps(model, optim_wrapper, data, iters, device):
    for _ in range(2):  # warm-up (allocator, cudnn autotune, lazy init)
        model.train_step(data, optim_wrapper)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(iters):
        model.train_step(data, optim_wrapper)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    cpu_s = (time.process_time() - start_cpu) / iters
    return (time.perf_counter() - start) / iters, cpu_s, peak_mb(device)


def measure_one(config, which, args, device):
    """step_s and peak_mem_mb of one model of ``config``: its ``'supervised'`` student or the UDA
    segmentor (``'uda'``); returns (name, result)."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = no_pretrained(cfg.model.to_dict())
    seg_cfg = model_cfg.get('segmentor', model_cfg)  # a UDA model's student, or the segmentor
    size = tuple(args.size) if args.size else tuple(seg_cfg['data_preprocessor']['size'])
    head = seg_cfg['decode_head']
    num_classes = head.get('num_classes') or head['head']['num_classes']  # HRDAHead: its head's
    gen = torch.Generator().manual_seed(0)
    src = branch(args.batch, size, num_classes, True, gen)
    paired = dict(source=src, target=branch(args.batch, size, num_classes, False, gen))
    name, cfg_, data = ('supervised', seg_cfg, src) if which == 'supervised' else (
        model_cfg['type'], model_cfg, paired)
    torch.manual_seed(0)
    base = 0.0 if device.type == 'cuda' else peak_mb(device)  # before the model exists
    model = MODELS.build(cfg_).to(device)
    model.init_weights()
    model.train()
    ow_cfg = cfg.optim_wrapper
    if which == 'supervised' and ow_cfg.get('constructor') == 'MultiOptimWrapperConstructor':
        ow_cfg = ow_cfg['student']  # the segmenter's own optimiser (CONFETI's: one per network)
    optim_wrapper = build_optim_wrapper(model, ow_cfg)
    step_s, cpu_s, mem = time_steps(model, optim_wrapper, data, args.iters, device)
    result = dict(step_s=round(step_s, 4), peak_mem_mb=round(mem - base, 1))
    if device.type == 'cpu':
        result['cpu_s'] = round(cpu_s, 4)
    return name, result


def is_uda(config):
    return 'segmentor' in Config.fromfile(config).model


def measure(config, args, device, uda_only=False):
    """Each model in a fresh process on CPU (the peak RSS is per process), in this one on CUDA.
    A supervised config (no ``model.segmentor``) has only the supervised step."""
    results = {}
    steps = ('supervised', 'uda') if is_uda(config) else ('supervised', )
    for which in ('uda', ) if uda_only else steps:
        if device.type == 'cuda':
            name, r = measure_one(config, which, args, device)
            torch.cuda.empty_cache()
        else:
            name, r = in_fresh_process(measure_one, config, which, args, device)
        results[name] = r
    return results


def add_ratios(results, dacs=None, baseline=None):
    sup = results['supervised']
    dacs = results.get('DACS', dacs)
    for r in results.values():
        r['ratio_to_supervised'] = round(r['step_s'] / sup['step_s'], 3)
        for key, ref in (('dacs', dacs), ('baseline', baseline)):
            if ref:
                r[f'ratio_to_{key}'] = round(r['step_s'] / ref['step_s'], 3)
                if r.get('cpu_s') and ref.get('cpu_s'):
                    r[f'cpu_ratio_to_{key}'] = round(r['cpu_s'] / ref['cpu_s'], 3)
                if ref['peak_mem_mb'] > 0:
                    r[f'mem_ratio_to_{key}'] = round(r['peak_mem_mb'] / ref['peak_mem_mb'], 3)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--batch', type=int, default=2, help='images per domain')
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--size', type=int, nargs=2, help='crop H W (default: the config)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='config overrides, e.g. model.imnet_feature_dist=None')
    parser.add_argument('--reference', help='DACS config on the same network (or a method config '
                        'that reduces to DACS): ratio_to_dacs of the other methods')
    parser.add_argument('--baseline', help='a supervised config (e.g. DAFormer for HRDA): '
                        'ratio_to_baseline of every row against its supervised step')
    parser.add_argument('--tag', default='', help='suffix of the result names')
    parser.add_argument('--out', default=osp.join(osp.dirname(osp.abspath(__file__)), 'results',
                                                  'speed.json'))
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == 'cpu':
        track_live_cpu_memory()
    table = json.load(open(args.out)) if osp.isfile(args.out) else {}
    # the reference: a DACS config, or a method's config with its additions off (e.g. RCCR's
    # Table 3 baseline, region_contrast=None), whatever its model type
    dacs = next(iter(measure(args.reference, args, device, uda_only=True).values())) \
        if args.reference else None
    baseline = measure(args.baseline, args, device)['supervised'] if args.baseline else None
    for config in args.configs:
        name = osp.splitext(osp.relpath(config))[0] + args.tag
        if baseline and osp.abspath(config) == osp.abspath(args.baseline):
            res = add_ratios(dict(supervised=dict(baseline)), dacs, baseline)  # measured above
        else:
            res = add_ratios(measure(config, args, device), dacs, baseline)
        meta = dict(device=torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu',
                    batch=args.batch, size=args.size, iters=args.iters)
        for method, r in res.items():
            table[f'{name}:{method}'] = dict(r, **meta)
            vs = ''.join(f'  x{r[f"ratio_to_{k}"]:.2f} {k}' for k in ('dacs', 'baseline')
                         if f'ratio_to_{k}' in r)
            cpu = f' (cpu {r["cpu_s"]:.4f} s)' if 'cpu_s' in r else ''
            print(f'{name:50s} {method:12s} {r["step_s"]:.4f} s/iter{cpu}  '
                  f'{r["peak_mem_mb"]:9.1f} MB  x{r["ratio_to_supervised"]:.2f} supervised{vs}')
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(table, f, indent=2, sort_keys=True)


if __name__ == '__main__':
    main()
