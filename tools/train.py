"""Train a segmentor: ``python tools/train.py CONFIG [--work-dir D] [--resume] [--amp] ...``."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from any folder

import mmseg_uda  # noqa: E402,F401  (compatibility fixes before mmseg loads)
import torch  # noqa: E402
from mmengine.runner import Runner, find_latest_checkpoint  # noqa: E402

from mmseg_uda.engine import (  # noqa: E402
    add_common_args, check_checkpoint_paths, init_cpu_distributed, load_config)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision training')
    add_common_args(parser)
    args = parser.parse_args()
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config, args)
    if args.amp:
        # mmengine's AmpOptimWrapper needs a GPU; on CPU we autocast to bfloat16.
        cfg.optim_wrapper.type = 'AmpOptimWrapper' if torch.cuda.is_available() \
            else 'CPUAmpOptimWrapper'
        if torch.cuda.is_available():
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    cfg.resume = args.resume
    check_checkpoint_paths(cfg, args.resume)
    if args.resume and cfg.get('load_from'):
        # mmengine would resume from load_from (a warm start) instead of this run's latest
        # checkpoint: resume the run if it has one, else warm-start from load_from.
        if find_latest_checkpoint(cfg.work_dir):
            cfg.load_from = None
        else:
            cfg.resume = False
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    main()
