"""Class statistics for rare-class sampling, for any dataset of a config.

    python tools/dataset_converters/rcs_stats.py CONFIG [--key train_dataloader.dataset.source]
        [--out FILE] [--nproc N]

Writes ``sample_class_stats.json`` (per-image class pixel counts after the dataset's label mapping,
with the fingerprint of the label files they were taken from) into the dataset's ``data_root``
unless ``--out`` is given. The GTA5/SYNTHIA/Cityscapes converters write it already (same format);
UDADataset computes it on first use when it is missing, and again when the fingerprint shows the
labels changed.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmseg_uda  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402

from mmseg_uda.datasets import compute_sample_class_stats, save_sample_class_stats  # noqa: E402
from mmseg_uda.datasets.class_stats import STATS_FILENAME  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--key', default='train_dataloader.dataset.source',
                        help='dotted path of the dataset config inside the config')
    parser.add_argument('--out', help=f'output file (default: <data_root>/{STATS_FILENAME})')
    parser.add_argument('--nproc', type=int, default=os.cpu_count())
    args = parser.parse_args(argv)

    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    node = cfg
    for part in args.key.split('.'):
        if part not in node:
            sys.exit(f'{args.config}: key {args.key!r} not found (missing {part!r})')
        node = node[part]
    dataset = DATASETS.build(node)
    out = args.out or osp.join(dataset.data_root or '.', STATS_FILENAME)
    samples = compute_sample_class_stats(dataset, nproc=args.nproc,
                                         ignore_index=dataset.ignore_index)
    save_sample_class_stats(out, samples, dataset.ignore_index)
    print(f'\nclass statistics of {len(samples)} images written to {out}')


if __name__ == '__main__':
    main()
