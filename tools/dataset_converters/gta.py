"""Convert GTA5 labels to Cityscapes trainIds and write class statistics.

GTA5 label PNGs are 8-bit palette PNGs whose indices are Cityscapes labelIds. Layout::

    DATA_ROOT/images/00001.png
    DATA_ROOT/labels/00001.png  ->  DATA_ROOT/labels/00001_labelTrainIds.png
    DATA_ROOT/sample_class_stats.json

Usage: ``python tools/dataset_converters/gta.py DATA_ROOT [--nproc N] [--overwrite]
[--skip-missing]``
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('mmseg_uda') is None:
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmseg_uda.datasets.label_mapping import convert_gta5, converter_main  # noqa: E402


def main(argv=None):
    return converter_main(convert_gta5, 'Convert GTA5 labels to Cityscapes trainIds.', argv,
                          skip_missing=True)


if __name__ == '__main__':
    main()
