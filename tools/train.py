"""Train a segmentor: ``python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]] ...``."""
import argparse
import logging
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from any folder

import mmseg_uda  # noqa: E402,F401  (compatibility fixes before mmseg loads)
import torch  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmseg_uda.engine import (  # noqa: E402
    add_common_args, check_checkpoint_paths, init_cpu_distributed, load_config, process_group_scope)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--resume', nargs='?', type=str, const='auto', metavar='CHECKPOINT',
                        help='resume from CHECKPOINT, or without it from the latest checkpoint '
                             'in the work dir (without one: start from load_from or scratch)')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision training')
    add_common_args(parser)
    args = parser.parse_args()
    return args


@process_group_scope()
def main():
    args = parse_args()
    cfg = load_config(args.config, args)
    if args.amp:
        # mmengine's AmpOptimWrapper needs a GPU; on CPU we autocast to bfloat16.
        cfg.optim_wrapper.type = 'AmpOptimWrapper' if torch.cuda.is_available() \
            else 'CPUAmpOptimWrapper'
        if torch.cuda.is_available():
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    requested = args.resume or cfg.get('resume')
    resume_from = check_checkpoint_paths(cfg, args.resume)
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    # said after the Runner is built, so that the run's log file has it
    work_dir = osp.realpath(cfg.work_dir)
    if requested and resume_from is None:
        start = f'warm start from load_from {cfg.load_from}' if cfg.get('load_from') else \
            'starting from iteration 0'
        print_log(f'--resume: no checkpoint in work dir {cfg.work_dir} (no last_checkpoint '
                  f'file); {start}', logger='current', level=logging.WARNING)
    elif resume_from and '://' not in resume_from and \
            osp.commonpath([osp.realpath(resume_from), work_dir]) != work_dir:
        print_log(f'resuming from {resume_from}, outside this run\'s work dir {cfg.work_dir} '
                  '(a copied work dir or another run\'s checkpoint): new checkpoints go to the '
                  'work dir, and no file outside it is deleted', logger='current',
                  level=logging.WARNING)
    runner.train()


if __name__ == '__main__':
    main()
