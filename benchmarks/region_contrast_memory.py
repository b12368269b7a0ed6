"""Peak memory and time of RCCR's region-wise contrast (forward + backward) by key-chunk size.

    python benchmarks/region_contrast_memory.py [--grid 64 64] [--batch 2] [--chunks 1024 4096 0]
        [--device cpu|cuda] [--iters 3] [--out benchmarks/results/region_contrast_memory.json]

The paper's size by default: 512x512 crops at output stride 8 (a 64x64 grid), 2 images, the half-area
square (45x45 = 2025 anchors per image, all confident), NS(R) + NS(C) and a full memory of 3 batches
(24,576 keys), so each anchor meets ~28.7k keys. Chunk 0 = all keys in one chunk: the similarity
matrix held whole (what an unchunked implementation needs). Peak memory: CUDA max allocated, or on
CPU the growth of the peak RSS of a fresh process per setting (freed tensors leave the RSS:
``benchmarks.speed.track_live_cpu_memory``).
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from benchmarks.speed import in_fresh_process, peak_mb, track_live_cpu_memory  # noqa: E402
from mmseg_uda.models.losses import RegionContrast  # noqa: E402
from mmseg_uda.models.utils.mixing import cutmix_squares  # noqa: E402


def measure(grid, batch, chunk, device, iters, dim=128, classes=19):
    device = torch.device(device)
    torch.manual_seed(0)
    h, w = grid
    rc = RegionContrast(dim=dim, chunk_size=chunk or 10**9).to(device)
    for _ in range(3):  # a full memory: 3 batches of the hw kept keys of each image
        rc.memory.push(F.normalize(torch.randn(batch * h * w, dim, device=device), dim=1),
                       torch.randint(0, classes, (batch * h * w, ), device=device))
    args = inputs(batch, dim, h, w, classes, device)
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    base = 0.0 if device.type == 'cuda' else peak_mb(device)
    start = time.perf_counter()
    for _ in range(iters):
        e_cut = args[0].clone().requires_grad_()
        rc(e_cut, *args[1:]).backward()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return dict(step_s=round((time.perf_counter() - start) / iters, 4),
                peak_mem_mb=round(peak_mb(device) - base, 1),
                keys_per_anchor=int(rc.memory.get()[0].shape[0] + h * w),
                anchors_per_image=int(cutmix_squares(1, grid).sum()))


def inputs(batch, dim, h, w, classes, device):
    e_cut = F.normalize(torch.randn(batch, dim, h, w, device=device), dim=1)
    e_t = F.normalize(torch.randn(batch, dim, h, w, device=device), dim=1)
    square = cutmix_squares(batch, (h, w), 0.5, device=device)
    conf = torch.ones(batch, h, w, device=device)
    label_t = torch.randint(0, classes, (batch, h, w), device=device)
    label_cut = torch.randint(0, classes, (batch, h, w), device=device)
    return e_cut, e_t, square, conf, label_t, label_cut


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--grid', type=int, nargs=2, default=(64, 64))
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--chunks', type=int, nargs='+', default=[1024, 4096, 0])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--out', default=osp.join(osp.dirname(osp.abspath(__file__)), 'results',
                                                  'region_contrast_memory.json'))
    args = parser.parse_args()
    if args.device == 'cpu':
        track_live_cpu_memory()
    table = json.load(open(args.out)) if osp.isfile(args.out) else {}
    for chunk in args.chunks:
        call = (tuple(args.grid), args.batch, chunk, args.device, args.iters)
        r = in_fresh_process(measure, *call) if args.device == 'cpu' else measure(*call)
        name = f'{args.device}:grid{args.grid[0]}x{args.grid[1]}:b{args.batch}:chunk{chunk or "all"}'
        table[name] = r
        print(f'{name:40s} {r["step_s"]:.3f} s  {r["peak_mem_mb"]:8.1f} MB  '
              f'({r["anchors_per_image"]} anchors x {r["keys_per_anchor"]} keys per image)')
    os.makedirs(osp.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(table, f, indent=2, sort_keys=True)


if __name__ == '__main__':
    main()
