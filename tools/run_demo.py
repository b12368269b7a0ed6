"""The README's main job: source-only vs DACS on the generated toy domain shift, on CPU.

    python tools/run_demo.py [--work-dir work_dirs/demo]

Trains the source-only demo model, evaluates it on both domains, adapts it with DACS (warm start from
the source-only checkpoint), evaluates that on the target, and prints a table (also written to
``<work-dir>/results.md``). About 7 minutes on 2 CPU cores.
"""
import argparse
import os.path as osp
import re
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SOURCE_ONLY = osp.join(ROOT, 'configs', 'demo', 'source_only_toy_shift.py')
DACS = osp.join(ROOT, 'configs', 'demo', 'dacs_toy_shift.py')


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


def test_miou(config, checkpoint, domain, work_dir):
    out = tool('test', config, checkpoint, '--work-dir', osp.join(work_dir, f'test_{domain}'),
               '--cfg-options', f'test_dataloader.dataset.domain={domain}',
               log=osp.join(work_dir, f'test_{domain}.log'))
    return float(re.findall(r'mIoU: ([\d.]+)', out)[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    args = parser.parse_args()
    src_dir, dacs_dir = osp.join(args.work_dir, 'source_only'), osp.join(args.work_dir, 'dacs')
    start = time.time()
    print('1/3 source-only training on the toy source domain ...', flush=True)
    tool('train', SOURCE_ONLY, '--work-dir', src_dir, log=osp.join(args.work_dir, 'source_only.log'))
    src_ckpt = osp.join(src_dir, 'iter_300.pth')
    rows = [('source-only', test_miou(SOURCE_ONLY, src_ckpt, 'source', src_dir),
             test_miou(SOURCE_ONLY, src_ckpt, 'target', src_dir))]
    print('2/3 DACS adaptation to the toy target domain ...', flush=True)
    tool('train', DACS, '--work-dir', dacs_dir, '--cfg-options', f'load_from={src_ckpt}',
         log=osp.join(args.work_dir, 'dacs.log'))
    dacs_ckpt = osp.join(dacs_dir, 'iter_150.pth')
    print('3/3 evaluation ...', flush=True)
    rows.append(('DACS', test_miou(DACS, dacs_ckpt, 'source', dacs_dir),
                 test_miou(DACS, dacs_ckpt, 'target', dacs_dir)))
    table = ['| model | source val mIoU | target val mIoU |', '|---|---|---|']
    table += [f'| {name} | {s:.2f} | {t:.2f} |' for name, s, t in rows]
    table.append(f'\n{time.time() - start:.0f} s in total; logs and checkpoints in {args.work_dir}')
    text = '\n'.join(table)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
