"""Test-server submissions: predictions in the format, file names and layout a benchmark server
expects, zipped (``tools/test.py CONFIG CKPT --format-only --out DIR``).

The test splits of Cityscapes, ACDC and Dark Zurich have no public labels; their scores come only
from the servers, and each server wants something different:

- ``cityscapes``: Cityscapes *labelIds* (trainId -> labelId as cityscapesScripts), one uint8 PNG per
  image, flat; the server finds a prediction by ``{city}_{seq}_{frame}*.png``, so the file is named
  ``{city}_{seq}_{frame}_leftImg8bit.png``.
- ``acdc``: *trainIds* (road = 0) at the input size 1920x1080, one uint8 PNG per image named like
  the image (``GOPR0475_frame_000041_rgb_anon.png``), flat.
- ``dark_zurich`` (CodaLab): three top-level folders of PNGs named like the images:
  ``labelTrainIds/`` (trainIds), ``confidence/`` (uint16: the max softmax probability x 65535,
  rounded) and ``labelTrainIds_invalid/`` (trainIds, 255 where a pixel is predicted invalid; this
  writer predicts none, so it is a copy of ``labelTrainIds/``).

:class:`SubmissionWriter` is the metric ``--format-only`` puts in place of the test evaluator: every
rank writes the PNGs of its images (at each image's original size) under ``DIR/<name>/``, and rank 0
zips them into ``DIR/<name>.zip`` once all have (``<name>``: the server, plus ``_labelIds`` /
``_trainIds`` when the label format is forced to the one the server does not use by default).
"""
import os
import os.path as osp
import re
import shutil
import zipfile
from collections import OrderedDict
from typing import NamedTuple, Optional, Sequence

import numpy as np
import torch
from mmengine.dist import barrier
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import DATASETS, METRICS

from ..datasets.label_mapping import CITYSCAPES_ID_TO_TRAINID, make_lut, write_png_atomic

LABEL_FORMATS = ('trainIds', 'labelIds')
LABEL_FOLDERS = dict(trainIds='labelTrainIds', labelIds='labelIds')  # Dark Zurich's folder names
CONFIDENCE_SCALE = 65535  # Dark Zurich: confidence PNGs hold round(p_max * 65535) as uint16
# transforms that need the label files, removed from the test pipeline by --format-only
LABEL_TRANSFORMS = ('LoadAnnotations', 'ValidateSegLabel')


class ServerFormat(NamedTuple):
    """What a server scores and how it finds a prediction.

    Attributes:
        label_format (str): the label ids the server scores (``trainIds`` or ``labelIds``).
        stem (re.Pattern): an image's file name without extension that the server can match.
        name (str): the prediction's file name, formatted with ``stem``'s named groups.
        with_confidence (bool): Dark Zurich's three folders (labels, confidence, invalid).
        example (str): an image name of the dataset, for the error messages.
    """
    label_format: str
    stem: re.Pattern
    name: str
    with_confidence: bool
    example: str


_CITY = re.compile(r'(?P<city>[A-Za-z]+)_(?P<seq>\d{6})_(?P<frame>\d{6})(_.*)?')
_FRAME = re.compile(r'(?P<seq>[A-Za-z0-9]+)_frame_(?P<frame>\d{6})_rgb_anon')
SERVER_FORMATS = OrderedDict(
    cityscapes=ServerFormat('labelIds', _CITY, '{city}_{seq}_{frame}_leftImg8bit.png', False,
                            'berlin_000000_000019_leftImg8bit.png'),
    acdc=ServerFormat('trainIds', _FRAME, '{seq}_frame_{frame}_rgb_anon.png', False,
                      'GOPR0475_frame_000041_rgb_anon.png'),
    dark_zurich=ServerFormat('trainIds', _FRAME, '{seq}_frame_{frame}_rgb_anon.png', True,
                             'GOPR0356_frame_000321_rgb_anon.png'),
)
SERVERS = tuple(SERVER_FORMATS)
# dataset class -> server; a subclass gets the server of its nearest listed ancestor (mmseg's
# DarkZurichDataset reads one folder, our DarkZurichUDADataset chooses them by split and condition)
SERVER_OF_DATASET = dict(CityscapesDataset='cityscapes', ACDCDataset='acdc',
                         DarkZurichDataset='dark_zurich', DarkZurichUDADataset='dark_zurich')


def cityscapes_labelid_lut(classes, context='label_format=labelIds',
                           remedy='write trainIds instead'):
    """Lookup table: the network's class index -> Cityscapes labelId (cityscapesScripts' table),
    matched by class name (the 19 trainIds, or a subset such as the toy shift's 7 classes); other
    values give 0, 'unlabeled'.

    Args:
        classes (Sequence[str]): the network's class names, in its class order.
        context (str): what asked for labelIds, named in the error.
        remedy (str): what to do instead, named in the error.

    Raises:
        ValueError: a class is not a Cityscapes class.
    """
    from mmseg.datasets import CityscapesDataset
    names = list(CityscapesDataset.METAINFO['classes'])  # in trainId order
    unknown = [c for c in classes if c not in names]
    if unknown:
        raise ValueError(f'{context}: classes {unknown} of the network are not Cityscapes '
                         f'classes ({names}); {remedy}')
    label_id = {t: i for i, t in CITYSCAPES_ID_TO_TRAINID.items()}
    return make_lut({k: label_id[names.index(c)] for k, c in enumerate(classes)}, ignore_index=0)


def _dataset_types(cfg, key):
    """The dataset classes of a dataset config, through wrappers (``dataset`` / ``datasets``)."""
    if 'datasets' in cfg:
        return [t for i, c in enumerate(cfg['datasets'])
                for t in _dataset_types(c, f'{key}.datasets.{i}')]
    if 'dataset' in cfg:
        return _dataset_types(cfg['dataset'], f'{key}.dataset')
    kind = cfg.get('type')
    cls = DATASETS.get(kind) if isinstance(kind, str) else kind
    if not isinstance(cls, type):
        raise KeyError(f'{key}.type {kind!r} is not a registered dataset')
    return [cls]


def server_of_dataset(cfg, key='test_dataloader.dataset'):
    """The server of a test dataset config, from its class (:data:`SERVER_OF_DATASET`).

    Raises:
        ValueError: the class (or a class inside a dataset wrapper) is none of a known server's,
            or the wrapped datasets belong to different servers.
    """
    servers = set()
    for cls in _dataset_types(cfg, key):
        found = [SERVER_OF_DATASET[c.__name__] for c in cls.__mro__
                 if c.__name__ in SERVER_OF_DATASET]
        if not found:
            raise ValueError(f'{key}: {cls.__name__} is not the dataset of a known test server '
                             f'({", ".join(SERVER_OF_DATASET)}); choose the format with '
                             f'--server {{{",".join(SERVERS)}}}')
        servers.add(found[0])
    if len(servers) != 1:
        raise ValueError(f'{key} holds datasets of the servers {sorted(servers)}; one submission '
                         'goes to one server: test them one at a time')
    return servers.pop()


def _is_label_transform(transform):
    kind = transform.get('type') if isinstance(transform, dict) else type(transform)
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', '')
    return any(t in name for t in LABEL_TRANSFORMS)


def _without_labels(transforms):
    kept = []
    for t in transforms:
        if isinstance(t, (list, tuple)):  # a TestTimeAug branch list
            t = _without_labels(t)
            if not t:
                continue
        elif isinstance(t, dict) and 'transforms' in t:
            t = dict(t, transforms=_without_labels(t['transforms']))
        elif _is_label_transform(t):
            continue
        kept.append(t)
    return kept


def drop_label_loading(cfg):
    """A copy of a dataset config that needs no label file: the label transforms
    (:data:`LABEL_TRANSFORMS`, also inside ``TestTimeAug``) leave its pipeline and
    ``data_prefix.seg_map_path`` is removed, through dataset wrappers."""
    cfg = dict(cfg)
    if 'datasets' in cfg:
        cfg['datasets'] = [drop_label_loading(c) for c in cfg['datasets']]
    if 'dataset' in cfg:
        cfg['dataset'] = drop_label_loading(cfg['dataset'])
    if 'pipeline' in cfg:
        cfg['pipeline'] = _without_labels(cfg['pipeline'])
    if isinstance(cfg.get('data_prefix'), dict):
        cfg['data_prefix'] = {k: v for k, v in cfg['data_prefix'].items() if k != 'seg_map_path'}
    return cfg


def check_output_dir(out_dir, overwrite=False):
    """Refuse to write a submission into a folder that is not empty, unless ``overwrite``.

    Raises:
        NotADirectoryError: ``out_dir`` is a file.
        FileExistsError: ``out_dir`` holds files and ``overwrite`` is False.
    """
    if osp.exists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(f'--out {out_dir} is a file, not a folder')
    if osp.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise FileExistsError(f'--out {out_dir} is not empty; give an empty or new folder, or '
                              '--overwrite to replace the submission written there before')


@METRICS.register_module()
class SubmissionWriter(BaseMetric):
    """Write the predictions as a test-server submission and zip it; computes no metric.

    Each rank writes the PNGs of its images under ``output_dir/<name>/`` in the layout of the
    zip (see the module docstring); after all ranks have, rank 0 zips exactly the files of the
    dataset's images into ``output_dir/<name>.zip`` (:attr:`zip_path`). Labels are the
    prediction (``pred_sem_seg``, at the image's original size); the Dark Zurich confidence is
    the max of the softmax of ``seg_logits``.

    Args:
        output_dir (str): folder of the submission.
        server (str): one of :data:`SERVERS`.
        label_format (str, optional): ``'trainIds'`` or ``'labelIds'`` (Cityscapes labelIds, for
            a network with Cityscapes class names). Defaults to the one the server scores.
        collect_device (str): as :class:`BaseMetric`. Defaults to 'cpu'.
        prefix (str, optional): as :class:`BaseMetric`.
    """

    default_prefix = 'submission'

    def __init__(self, output_dir: str, server: str, label_format: Optional[str] = None,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if server not in SERVER_FORMATS:
            raise ValueError(f'SubmissionWriter: server {server!r} is not one of {SERVERS}')
        self.format = SERVER_FORMATS[server]
        label_format = label_format or self.format.label_format
        if label_format not in LABEL_FORMATS:
            raise ValueError(f'SubmissionWriter: label_format {label_format!r} is not one of '
                             f'{LABEL_FORMATS}')
        self.server, self.label_format, self.output_dir = server, label_format, output_dir
        self.name = server if label_format == self.format.label_format else \
            f'{server}_{label_format}'
        self.tree = osp.join(output_dir, self.name)
        self.zip_path = self.tree + '.zip'
        self.num_images = None  # set on rank 0 by compute_metrics
        self._lut = None

    # -- names and checks --------------------------------------------------------------------
    def output_name(self, img_path: str) -> str:
        """The file name the server matches for the image ``img_path``.

        Raises:
            ValueError: the image's name is not one the server knows.
        """
        stem = osp.splitext(osp.basename(img_path))[0]
        match = self.format.stem.fullmatch(stem)
        if match is None:
            raise ValueError(
                f'{img_path}: the {self.server} server matches predictions by file name, and '
                f'this image name is not one of its test set (e.g. {self.format.example}); '
                f'choose the server of this dataset with --server {{{",".join(SERVERS)}}}')
        return self.format.name.format(**match.groupdict())

    def members(self, name: str) -> tuple:
        """Paths inside the zip of one image's files: (labels, [confidence, invalid])."""
        if not self.format.with_confidence:
            return (name, )
        labels = LABEL_FOLDERS[self.label_format]
        return f'{labels}/{name}', f'confidence/{name}', f'{labels}_invalid/{name}'

    def check_dataset(self, dataset) -> None:
        """Before inference: every image of ``dataset`` has a name the server knows, no two give
        the same file, and labelIds can be written for its classes.

        Raises:
            ValueError: naming the image(s) or classes at fault.
        """
        if len(dataset) == 0:
            raise ValueError(f'{type(dataset).__name__}: the test set is empty')
        seen = {}
        for idx in range(len(dataset)):
            path = dataset.get_data_info(idx)['img_path']
            name = self.output_name(path)
            if name in seen:
                raise ValueError(f'images {seen[name]} and {path} both give the submission file '
                                 f'{name}; the {self.server} server needs one file per name')
            seen[name] = path
        if self.label_format == 'labelIds':
            self._label_lut(dataset.metainfo['classes'])

    def _label_lut(self, classes):
        if self._lut is None:
            self._lut = cityscapes_labelid_lut(classes)
        return self._lut

    def remove_previous(self) -> None:
        """Delete this writer's folder and zip under ``output_dir`` (a previous submission)."""
        if osp.isdir(self.tree):
            shutil.rmtree(self.tree)
        if osp.isfile(self.zip_path):
            os.remove(self.zip_path)

    # -- writing -----------------------------------------------------------------------------
    def _write(self, member, array):
        path = osp.join(self.tree, member)
        os.makedirs(osp.dirname(path), exist_ok=True)
        write_png_atomic(path, array)

    @staticmethod
    def confidence(seg_logits: torch.Tensor, pred: torch.Tensor, img_path: str) -> np.ndarray:
        """uint16 ``round(65535 * max_c softmax(seg_logits)_c)`` (HxW) from CxHxW logits.

        Computed in float64 (a float32 softmax is off by one level at some pixels).

        Raises:
            ValueError: the logits' argmax is not the prediction (e.g. test-time augmentation,
                whose prediction comes from averaged probabilities the sample does not carry).
        """
        logits = seg_logits.double()
        if logits.shape[0] < 2:
            raise ValueError(f'{img_path}: confidences need softmax logits of at least 2 '
                             f'classes, got seg_logits of shape {tuple(seg_logits.shape)}')
        if not torch.equal(logits.argmax(0), pred.to(logits.device).long()):
            raise ValueError(f'{img_path}: the argmax of seg_logits is not pred_sem_seg (test-time '
                             'augmentation?), so its softmax is not the confidence of the '
                             'prediction; test without it')
        top = logits.max(0).values
        prob = 1.0 / (logits - top).exp().sum(0)  # softmax at the argmax
        return torch.round(prob * CONFIDENCE_SCALE).cpu().numpy().astype(np.uint16)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Write the files of each sample; keep (image path, zip members) for the zip."""
        lut = self._label_lut(self.dataset_meta['classes']) if self.label_format == 'labelIds' \
            else None
        for sample in data_samples:
            img_path = sample['img_path']
            name = self.output_name(img_path)
            pred = sample['pred_sem_seg']['data']
            pred = pred[0] if pred.ndim == 3 else pred
            ori_shape = tuple(sample['ori_shape'][:2])
            if tuple(pred.shape) != ori_shape:
                raise ValueError(f'{img_path}: the prediction is {tuple(pred.shape)} but the '
                                 f'image {ori_shape}; servers score predictions at the original '
                                 'size')
            labels = pred.cpu().numpy()
            if labels.min() < 0 or labels.max() > 254:
                raise ValueError(f'{img_path}: predicted class ids {labels.min()}..'
                                 f'{labels.max()} do not fit a uint8 label PNG')
            labels = labels.astype(np.uint8)
            if lut is not None:
                labels = lut[labels]
            members = self.members(name)
            self._write(members[0], labels)
            if self.format.with_confidence:
                logits = sample.get('seg_logits', {}).get('data')
                if logits is None:
                    raise KeyError(f'{img_path}: the data sample has no seg_logits, which the '
                                   f'{self.server} confidence is computed from')
                self._write(members[1], self.confidence(logits, pred, img_path))
                self._write(members[2], labels)  # no pixel predicted invalid
            self.results.append((img_path, members))

    def evaluate(self, size: int) -> dict:
        barrier()  # every rank has written its files before rank 0 zips them
        return super().evaluate(size)

    def compute_metrics(self, results: list) -> dict:
        """Rank 0: zip the files of all images into :attr:`zip_path`; no metric.

        Raises:
            ValueError: two images gave the same file name.
            FileNotFoundError: a file a rank reported is missing.
        """
        owner, members = {}, []
        for img_path, files in results:
            if files[0] in owner:
                raise ValueError(f'images {owner[files[0]]} and {img_path} both give the '
                                 f'submission file {files[0]}')
            owner[files[0]] = img_path
            members += files
        missing = [m for m in members if not osp.isfile(osp.join(self.tree, m))]
        if missing:
            raise FileNotFoundError(f'{len(missing)} submission files are missing under '
                                    f'{self.tree}, e.g. {missing[0]}')
        tmp = f'{self.zip_path}.tmp{os.getpid()}'
        try:
            with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as zf:
                for member in sorted(members):
                    zf.write(osp.join(self.tree, member), arcname=member)
            os.replace(tmp, self.zip_path)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)
        self.num_images = len(results)
        print_log(f'{len(results)} predictions ({self.label_format}) for the {self.server} '
                  f'server written to {self.tree}, zipped: {self.zip_path}', logger='current')
        return OrderedDict()
