"""Offline pseudo-labels with class-wise confidence thresholds (SDCA stage 3, CBST-style).

    python tools/pseudo_label.py CONFIG CHECKPOINT --work-dir OUT [--quantile 0.5] [--cap 0.9]
        [--bins 100000] [--cfg-options ...]
    tools/dist_launch.sh pseudo_label.py NUM_PROCS CONFIG CHECKPOINT --work-dir OUT   (several GPUs)

The images come from the config's ``pseudo_label_dataloader`` (a dataloader config over the
unlabelled target training images with a test pipeline: resize, no augmentation). CHECKPOINT is a
checkpoint of the config's model, or a plain segmentor state dict (e.g. a pipeline stage's
``final.pth`` / ``init.pth``) for a UDA config, which then predicts with ``model.segmentor``.
Writes the label maps to ``OUT/labels/`` (read them with ``data_prefix.seg_map_path=OUT/labels``),
the thresholds to ``OUT/thresholds.json`` and, last, the completion marker ``OUT/done``: an
interrupted run leaves no marker and is redone (tools/train_pipeline.py tool stages rely on it).
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from any folder

import mmseg_uda  # noqa: E402,F401  (compatibility fixes before mmseg loads)
import torch  # noqa: E402
from mmengine.device import get_device  # noqa: E402
from mmengine.dist import barrier, init_dist, is_main_process  # noqa: E402
from mmengine.runner import Runner, load_checkpoint  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

from mmseg_uda.engine import (add_common_args, class_confidence_thresholds,  # noqa: E402
                              init_cpu_distributed, load_config, process_group_scope,
                              write_pseudo_labels)
from mmseg_uda.engine.pseudo_labels import DEFAULT_BINS, write_json_atomic  # noqa: E402

DONE = 'done'  # the completion marker, written last (the tool-stage convention of train_pipeline)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config file with a `pseudo_label_dataloader`')
    parser.add_argument('checkpoint', help='weights of the model that predicts')
    parser.add_argument('--quantile', type=float, default=0.5,
                        help='per-class order statistic of the confidences (SDCA: median 0.5)')
    parser.add_argument('--cap', type=lambda s: None if s.lower() == 'none' else float(s),
                        default=0.9, help="upper bound of the thresholds, 'none' for none (0.9)")
    parser.add_argument('--bins', type=int, default=DEFAULT_BINS,
                        help='histogram bins over [0, 1]: thresholds are exact to 1/bins')
    add_common_args(parser)
    return parser.parse_args(argv)


def build_model(cfg, checkpoint):
    """The config's model with the checkpoint's weights; for a UDA config and a plain segmentor
    checkpoint (no ``student.`` keys), the UDA model's segmentor."""
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    state = state.get('state_dict', state)
    model_cfg = cfg.model
    if 'segmentor' in model_cfg and not any(k.startswith('student.') for k in state):
        model_cfg = model_cfg.segmentor
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    return model


@process_group_scope()
def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args)
    if cfg.get('pseudo_label_dataloader') is None:
        raise KeyError(f'config {args.config}: pseudo-labelling needs `pseudo_label_dataloader`, a '
                       'dataloader of the unlabelled target training images (test pipeline)')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    if args.launcher != 'none' and not init_cpu_distributed(cfg):
        init_dist(args.launcher)
    out = osp.abspath(cfg.work_dir)
    done = osp.join(out, DONE)
    if is_main_process():
        os.makedirs(out, exist_ok=True)
        if osp.exists(done):
            os.remove(done)  # until this run completes, the folder's labels are not a result
    register_all_modules(init_default_scope=True)
    model = build_model(cfg, args.checkpoint).to(get_device())
    loader_cfg = cfg.pseudo_label_dataloader.copy()
    sampler = loader_cfg.get('sampler') or {}
    if sampler.get('type') == 'DefaultSampler':
        # padding the last shard would count (and write) some images twice
        loader_cfg.sampler = dict(sampler, round_up=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    net = getattr(model, 'inference_model', model)
    num_classes = net.decode_head.num_classes

    thresholds = class_confidence_thresholds(model, loader, num_classes, args.quantile, args.cap,
                                             args.bins)
    labels = osp.join(out, 'labels')
    stats = write_pseudo_labels(model, loader, thresholds, labels)
    barrier()  # every rank's labels are written before the marker
    if is_main_process():
        # the labels folder holds the label maps only; the summary, with provenance, goes to OUT
        with open(osp.join(labels, 'thresholds.json')) as f:
            summary = json.load(f)
        os.remove(osp.join(labels, 'thresholds.json'))
        summary.update(config=osp.abspath(args.config), checkpoint=osp.abspath(args.checkpoint),
                       quantile=args.quantile, cap=args.cap, bins=args.bins)
        write_json_atomic(summary, osp.join(out, 'thresholds.json'))
        print('class thresholds: ' + ', '.join(f'{name} {t:.4f}' for name, t in
                                               summary['thresholds'].items()))
        print(f"pseudo-labels: {stats['images']} images, {100 * stats['labelled_share']:.1f}% of "
              f'the pixels labelled -> {labels}')
        with open(done, 'w') as f:
            f.write('ok\n')


if __name__ == '__main__':
    main()
