"""Convert Cityscapes labelIds to trainIds and write class statistics of the train split.

Layout (the one mmseg's ``CityscapesDataset`` reads)::

    DATA_ROOT/leftImg8bit/<split>/<city>/<name>_leftImg8bit.png
    DATA_ROOT/gtFine/<split>/<city>/<name>_gtFine_labelIds.png
        ->  DATA_ROOT/gtFine/<split>/<city>/<name>_gtFine_labelTrainIds.png
    DATA_ROOT/sample_class_stats.json  (train split)

Usage: ``python tools/dataset_converters/cityscapes.py DATA_ROOT [--nproc N] [--overwrite]``
"""
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('mmseg_uda') is None:
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmseg_uda.datasets.label_mapping import convert_cityscapes, converter_main  # noqa: E402


def main(argv=None):
    return converter_main(convert_cityscapes, 'Convert Cityscapes labelIds to trainIds.', argv)


if __name__ == '__main__':
    main()
