"""Convert SYNTHIA-RAND-CITYSCAPES labels to Cityscapes trainIds and write class statistics.

Labels are 16-bit PNGs with the class id in the R channel (16 of the 19 classes occur). Layout::

    DATA_ROOT/RGB/0000000.png
    DATA_ROOT/GT/LABELS/0000000.png  ->  DATA_ROOT/GT/LABELS/0000000_labelTrainIds.png
    DATA_ROOT/sample_class_stats.json

Usage: ``python tools/dataset_converters/synthia.py DATA_ROOT [--nproc N] [--overwrite]
[--skip-missing]``
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('mmseg_uda') is None:
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmseg_uda.datasets.label_mapping import convert_synthia, converter_main  # noqa: E402


def main(argv=None):
    return converter_main(convert_synthia, 'Convert SYNTHIA labels to Cityscapes trainIds.', argv,
                          skip_missing=True)


if __name__ == '__main__':
    main()
