"""AdaBN: re-estimate a checkpoint's BatchNorm statistics on unlabelled target images, no training.

    python tools/adabn.py CONFIG CHECKPOINT OUT.pth [--max-batches N] [--cfg-options ...]

The target images come from the config's ``adabn_dataloader`` (a dataloader config, labels not
needed). The output is a checkpoint with the same weights and the adapted statistics; evaluate it
with tools/test.py.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from any folder

import mmseg_uda  # noqa: E402,F401  (compatibility fixes before mmseg loads)
from mmengine.runner import Runner, load_checkpoint, save_checkpoint  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

from mmseg_uda.engine import adapt_bn_statistics, add_common_args, load_config  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file with an `adabn_dataloader`')
    parser.add_argument('checkpoint', help='checkpoint to adapt')
    parser.add_argument('out', help='path of the adapted checkpoint')
    parser.add_argument('--max-batches', type=int, default=None,
                        help='use at most this many target batches (default: all)')
    add_common_args(parser)
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = load_config(args.config, args)
    if cfg.get('adabn_dataloader') is None:
        raise KeyError(f'config {args.config}: AdaBN needs `adabn_dataloader`, a dataloader of the '
                       'unlabelled target images')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    register_all_modules(init_default_scope=True)
    model = MODELS.build(cfg.model)
    ckpt = load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    loader = Runner.build_dataloader(cfg.adabn_dataloader, seed=0)
    used = adapt_bn_statistics(model, loader, args.max_batches)
    meta = dict(ckpt.get('meta', {}), adabn=dict(source=osp.abspath(args.checkpoint), batches=used,
                                                   config=osp.abspath(args.config)))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp'
    save_checkpoint(dict(meta=meta, state_dict=model.state_dict()), tmp)
    os.replace(tmp, args.out)  # never leaves a half-written checkpoint at OUT
    print(f'AdaBN: BatchNorm statistics re-estimated on {used} target batches -> {args.out}')


if __name__ == '__main__':
    main()
