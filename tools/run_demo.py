"""The README's main job: source-only vs DACS on the generated toy domain shift, on CPU.

    python tools/run_demo.py [--shift {dusk,night,fog}] [--work-dir work_dirs/demo]

Trains the source-only demo model, evaluates it on both domains, adapts it with DACS (warm start from
the source-only checkpoint), evaluates that on the target, and prints a table (also written to
``<work-dir>/results.md``). About 4 to 7 minutes on 2 CPU cores.

``--shift`` picks the target camera of the generated data: ``dusk`` (the default, in
``data/toy_shift``), or the adverse conditions of Cityscapes -> Dark Zurich / ACDC, ``night`` and
``fog`` (in ``data/toy_shift_<shift>``): a check of the night and fog code paths without the real
data.
"""
import argparse
import os.path as osp
import re
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHIFTS = ('dusk', 'night', 'fog')  # mmseg_uda.datasets.toy_shift.SHIFTS (not imported: fast --help)
SOURCE_ONLY = osp.join(ROOT, 'configs', 'demo', 'source_only_toy_shift.py')
DACS = osp.join(ROOT, 'configs', 'demo', 'dacs_toy_shift.py')


def data_options(shift):
    """--cfg-options that point every toy_shift dataset of the demo configs at ``shift``'s data."""
    if shift == 'dusk':
        return []
    root = osp.join('data', f'toy_shift_{shift}')
    keys = ['train_dataloader.dataset.source', 'train_dataloader.dataset.target',
            'val_dataloader.dataset', 'test_dataloader.dataset']
    return [f'{k}.{field}={value}' for k in keys
            for field, value in (('data_root', root), ('shift', shift))]


def tool(name, *args, log):
    """Run tools/<name>.py, log its output to a file, and return that output."""
    cmd = [sys.executable, osp.join(ROOT, 'tools', f'{name}.py'), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    with open(log, 'w') as f:
        f.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.exit(f'{" ".join(cmd)} failed (exit {proc.returncode}); see {log}:\n'
                 + (proc.stdout + proc.stderr)[-3000:])
    return proc.stdout + proc.stderr


def test_miou(config, checkpoint, domain, work_dir, shift):
    options = [o for o in data_options(shift) if o.startswith('test_dataloader')]
    out = tool('test', config, checkpoint, '--work-dir', osp.join(work_dir, f'test_{domain}'),
               '--cfg-options', f'test_dataloader.dataset.domain={domain}', *options,
               log=osp.join(work_dir, f'test_{domain}.log'))
    return float(re.findall(r'mIoU: ([\d.]+)', out)[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--shift', choices=SHIFTS, default='dusk',
                        help='the target camera of the generated data (default: dusk)')
    parser.add_argument('--work-dir', help='default: work_dirs/demo (work_dirs/demo_<shift>)')
    args = parser.parse_args()
    if args.work_dir is None:
        args.work_dir = 'work_dirs/demo' if args.shift == 'dusk' else f'work_dirs/demo_{args.shift}'
    shift, data = args.shift, data_options(args.shift)
    src_dir, dacs_dir = osp.join(args.work_dir, 'source_only'), osp.join(args.work_dir, 'dacs')
    start = time.time()
    print('1/3 source-only training on the toy source domain ...', flush=True)
    # the source-only config trains on the source set alone: its train set is not a UDA pair
    src_opts = [o.replace('train_dataloader.dataset.source.', 'train_dataloader.dataset.')
                for o in data if not o.startswith('train_dataloader.dataset.target')]
    tool('train', SOURCE_ONLY, '--work-dir', src_dir,
         *(['--cfg-options', *src_opts] if src_opts else []),
         log=osp.join(args.work_dir, 'source_only.log'))
    src_ckpt = osp.join(src_dir, 'iter_300.pth')
    rows = [('source-only', test_miou(SOURCE_ONLY, src_ckpt, 'source', src_dir, shift),
             test_miou(SOURCE_ONLY, src_ckpt, 'target', src_dir, shift))]
    print('2/3 DACS adaptation to the toy target domain ...', flush=True)
    tool('train', DACS, '--work-dir', dacs_dir, '--cfg-options', f'load_from={src_ckpt}', *data,
         log=osp.join(args.work_dir, 'dacs.log'))
    dacs_ckpt = osp.join(dacs_dir, 'iter_150.pth')
    print('3/3 evaluation ...', flush=True)
    rows.append(('DACS', test_miou(DACS, dacs_ckpt, 'source', dacs_dir, shift),
                 test_miou(DACS, dacs_ckpt, 'target', dacs_dir, shift)))
    table = [f'| model | source val mIoU | target ({shift}) val mIoU |', '|---|---|---|']
    table += [f'| {name} | {s:.2f} | {t:.2f} |' for name, s, t in rows]
    table.append(f'\n{time.time() - start:.0f} s in total; logs and checkpoints in {args.work_dir}')
    text = '\n'.join(table)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
