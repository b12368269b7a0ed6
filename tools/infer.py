"""Segment images with a trained network: coloured overlays and label PNGs.

``python tools/infer.py CONFIG CHECKPOINT INPUTS... --out-dir D [--labelids cityscapes]
[--opacity 0.5] [--network student|teacher] [--device cpu]``

INPUTS are image files and/or folders (searched recursively). CONFIG/CHECKPOINT is either a UDA
pair (exported in memory first, see ``tools/export.py``) or a plain mmseg pair (e.g. an export).
For every image ``REL`` (its path below the folder given, or its file name) it writes

- ``D/vis/REL.png``: the image with the prediction painted over it (mmseg's SegLocalVisualizer),
- ``D/pred/REL.png``: the prediction as a uint8 label map of trainIds (0..C-1),
- ``D/labelIds/REL.png`` with ``--labelids cityscapes``: Cityscapes labelIds (class names matched
  to Cityscapes'), the format of the Cityscapes benchmark server.
"""
import argparse
import os
import os.path as osp
import sys

TOOLS = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(TOOLS))  # run from any folder
sys.path.insert(0, TOOLS)

import mmseg_uda  # noqa: E402,F401  (compatibility fixes and registration before mmseg loads)
import cv2  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.utils import scandir  # noqa: E402

from export import export_network, is_uda_config  # noqa: E402
from mmseg_uda.evaluation import submission  # noqa: E402

IMG_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def cityscapes_labelid_lut(classes):
    """The network's class index -> Cityscapes labelId (shared with ``tools/test.py
    --format-only``: :func:`mmseg_uda.evaluation.submission.cityscapes_labelid_lut`)."""
    return submission.cityscapes_labelid_lut(classes, context='--labelids cityscapes',
                                             remedy='leave --labelids out')


LABEL_ID_LUTS = {'cityscapes': cityscapes_labelid_lut}


def collect_images(inputs):
    """``[(path, rel)]`` of the image files and the images found (recursively) in folders, ``rel``
    being the path below the folder given; raises naming an input that is missing or empty."""
    images = []
    for item in inputs:
        if osp.isfile(item):
            images.append((item, osp.basename(item)))
        elif osp.isdir(item):
            found = sorted(scandir(item, IMG_SUFFIXES, recursive=True, case_sensitive=False))
            if not found:
                raise FileNotFoundError(f'input folder {item} holds no image ({IMG_SUFFIXES})')
            images += [(osp.join(item, rel), rel) for rel in found]
        else:
            raise FileNotFoundError(f'input {item} is neither an image file nor a folder')
    return images


def load_model(config, checkpoint, device, network=None):
    """An mmseg segmentor ready for ``inference_model``: a plain pair through ``init_model``, a UDA
    pair exported in memory (its ``network``, default ``predict_on``) and then the same."""
    from mmseg.apis import init_model
    cfg = Config.fromfile(config)
    if not is_uda_config(cfg):
        if network is not None:
            raise ValueError(f'--network {network}: config {config} is not a UDA config, it holds '
                             'one network')
        return init_model(cfg, checkpoint, device=device)
    cfg, state_dict, meta, _ = export_network(cfg, checkpoint, network)
    model = init_model(cfg, None, device=device)
    model.load_state_dict(state_dict)
    model.dataset_meta = meta['dataset_meta']
    return model


def out_path(out_dir, kind, rel):
    path = osp.join(out_dir, kind, osp.splitext(rel)[0] + '.png')
    os.makedirs(osp.dirname(path), exist_ok=True)
    return path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Segment images: overlays and label PNGs')
    parser.add_argument('config', help='a UDA config or a plain mmseg config (e.g. an export)')
    parser.add_argument('checkpoint', help='the checkpoint of that config')
    parser.add_argument('inputs', nargs='+', help='image files and/or folders of images')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument('--labelids', choices=sorted(LABEL_ID_LUTS),
                        help='also write label PNGs in the dataset\'s own label ids (labelIds/)')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='opacity of the painted prediction in (0, 1]')
    parser.add_argument('--network', choices=('student', 'teacher'),
                        help="UDA pairs: network to use (default: the config's model.predict_on)")
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity must be in (0, 1], got {args.opacity}')
    return args


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.config, 'config file'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise FileNotFoundError(f'{what} {path} does not exist')
    images = collect_images(args.inputs)
    model = load_model(args.config, args.checkpoint, args.device, args.network)
    lut = None
    if args.labelids:
        lut = LABEL_ID_LUTS[args.labelids](model.dataset_meta['classes'])

    from mmseg.apis import inference_model
    from mmseg.visualization import SegLocalVisualizer
    visualizer = SegLocalVisualizer(name=f'infer_{os.getpid()}', alpha=args.opacity)
    visualizer.set_dataset_meta(classes=model.dataset_meta['classes'],
                                palette=model.dataset_meta.get('palette'))
    for path, rel in images:
        result = inference_model(model, path)
        pred = result.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
        cv2.imwrite(out_path(args.out_dir, 'pred', rel), pred)
        if lut is not None:
            cv2.imwrite(out_path(args.out_dir, 'labelIds', rel), lut[pred])
        visualizer.add_datasample(rel, mmcv.imread(path, channel_order='rgb'), result,
                                  draw_gt=False, with_labels=False,
                                  out_file=out_path(args.out_dir, 'vis', rel))
    print(f'{len(images)} images segmented: {args.out_dir}/vis (overlays), {args.out_dir}/pred '
          '(trainIds)' + (f', {args.out_dir}/labelIds ({args.labelids} labelIds)' if lut is not None
                          else ''))


if __name__ == '__main__':
    main()
