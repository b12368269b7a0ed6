"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [--show-dir D] [--out D] ...``.

``--format-only --out D`` writes a test-server submission instead (no labels needed, no metric):
the predictions in the format, names and layout of the server (``--server``, by default that of
the test dataset's class), zipped into ``D/<server>.zip``; see
:mod:`mmseg_uda.evaluation.submission`.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from any folder

import mmseg_uda  # noqa: E402,F401  (compatibility fixes before mmseg loads)
from mmengine.dist import barrier, is_main_process  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmseg_uda.engine import (add_common_args, init_cpu_distributed, load_config,  # noqa: E402
                              process_group_scope)
from mmseg_uda.evaluation.submission import (SERVERS, check_output_dir,  # noqa: E402
                                             drop_label_loading, server_of_dataset)

SERVER_HELP = (
    'test server of --format-only (default: the one of the test dataset\'s class): '
    'cityscapes: Cityscapes labelIds, {city}_{seq}_{frame}_leftImg8bit.png, flat; '
    'acdc: trainIds (road = 0) at the image size (1920x1080), named like the images '
    '(*_rgb_anon.png), flat; '
    'dark_zurich: folders labelTrainIds/ (trainIds), confidence/ (uint16, max softmax '
    'probability x 65535) and labelTrainIds_invalid/ (no pixel predicted invalid: a copy of '
    'labelTrainIds/), files named like the images (*_rgb_anon.png)')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='folder to save the predicted label maps (trainIds) as PNG; '
                        'with --format-only: the folder of the test-server submission')
    parser.add_argument('--format-only', action='store_true',
                        help='write the predictions of the test set as a test-server submission '
                        'to --out (PNGs at the images\' size and one zip, DIR/<server>.zip): no '
                        'label is loaded and no metric computed')
    parser.add_argument('--server', choices=SERVERS, help=SERVER_HELP)
    parser.add_argument('--label-ids', action='store_true',
                        help='--format-only: write Cityscapes labelIds whatever the server (the '
                        'Cityscapes server scores labelIds, the ACDC and Dark Zurich servers '
                        'trainIds); the network\'s classes must be Cityscapes classes')
    parser.add_argument('--overwrite', action='store_true',
                        help='--format-only: write into a --out folder that is not empty, '
                        'replacing the submission of the same server and format there')
    parser.add_argument('--show', action='store_true', help='show prediction results')
    parser.add_argument('--show-dir', help='folder to save images painted with the predictions')
    parser.add_argument('--metrics-out', help='write the metrics as JSON to this file')
    parser.add_argument('--wait-time', type=float, default=2, help='display interval (s)')
    add_common_args(parser)
    args = parser.parse_args(argv)
    if args.format_only and not args.out:
        parser.error('--format-only needs --out DIR, the folder the submission is written to')
    if not args.format_only:
        for flag in ('server', 'label_ids', 'overwrite'):
            if getattr(args, flag):
                parser.error(f'--{flag.replace("_", "-")} applies to --format-only only')
    elif args.metrics_out:
        parser.error('--metrics-out: --format-only computes no metric')
    return args


def enable_visualization(cfg, args):
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError(f'config {args.config}: --show/--show-dir need '
                       "default_hooks.visualization (type='SegVisualizationHook')")
    hook.update(draw=True, interval=1)
    if args.show:
        hook.update(show=True, wait_time=args.wait_time)
    if args.show_dir:
        cfg.visualizer.save_dir = args.show_dir


def enable_format_only(cfg, args):
    """The server's test set without label loading, its evaluator a :class:`SubmissionWriter`.

    The test set is the config's ``test_split_dataloader`` where it has one (the unlabelled test
    split of the ACDC and Dark Zurich configs, which no loop reads), else its ``test_dataloader``.
    """
    key = 'test_split_dataloader' if cfg.get('test_split_dataloader') else 'test_dataloader'
    if not cfg.get(key):
        raise KeyError(f'config {args.config}: --format-only needs a test_dataloader '
                       '(or test_split_dataloader)')
    dataset = cfg[key].dataset
    server = args.server or server_of_dataset(dataset, key=f'{key}.dataset')
    cfg.test_dataloader = dict(cfg[key], dataset=drop_label_loading(dataset))
    cfg.test_evaluator = dict(type='SubmissionWriter', output_dir=args.out, server=server,
                              label_format='labelIds' if args.label_ids else None)
    return key


@process_group_scope()
def main(argv=None):
    args = parse_args(argv)
    if args.format_only:  # before anything is built or written
        check_output_dir(args.out, args.overwrite)
    cfg = load_config(args.config, args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        enable_visualization(cfg, args)
    if args.format_only:
        test_set = enable_format_only(cfg, args)
    elif args.out:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True
    init_cpu_distributed(cfg)
    runner = Runner.from_cfg(cfg)
    if args.format_only:
        writer = runner.test_loop.evaluator.metrics[0]
        runner.logger.info(f'--format-only: the images of {test_set} go to the {writer.server} '
                           'server')
        writer.check_dataset(runner.test_loop.dataloader.dataset)  # names, before inference
        if is_main_process():
            writer.remove_previous()
        barrier()
    metrics = runner.test()
    if args.format_only:
        if is_main_process():
            print(f'submission for the {writer.server} server ({writer.num_images} images, '
                  f'{writer.label_format}): {writer.zip_path}')
        return
    if args.metrics_out and is_main_process():
        os.makedirs(osp.dirname(osp.abspath(args.metrics_out)), exist_ok=True)
        with open(args.metrics_out, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)


if __name__ == '__main__':
    main()
