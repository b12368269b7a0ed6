import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ValidateSegLabel(BaseTransform):
    """Check a freshly loaded label against its image; raise with the file names on bad data.

    Place it right after ``LoadAnnotations`` (before any geometric transform of the label; the image may
    already be resized: the check uses the loaded image's ``ori_shape``).
    Checks that the label is a single-channel id map (a colour label would fail much later, in the
    loss's interpolation), that it has the image's height and width and that every value is a class
    id ``0 <= v < num_classes`` or ``ignore_index``. mmseg's ``LoadAnnotations`` casts labels to uint8,
    so a 16-bit PNG label with values above 255 would silently wrap around (259 -> class 3): such a
    file is read again at full depth and rejected, naming it and its values (16-bit files whose
    values all fit in 8 bits load correctly and pass).

    Args:
        num_classes (int, optional): number of classes; when None it is read from the sample's
            ``num_classes`` (set by our datasets). Value checks are skipped if neither is known.
        ignore_index (int): the ignore label. Default: 255.
    """

    def __init__(self, num_classes=None, ignore_index=255):
        self.num_classes = num_classes
        self.ignore_index = ignore_index

    def transform(self, results):
        if 'gt_seg_map' not in results:
            return results
        label = results['gt_seg_map']
        # the loaded image's size (ori_shape), so that the check may follow a Resize of the image
        img_shape = results.get('ori_shape') or (
            results['img'].shape[:2] if 'img' in results else label.shape)
        where = f'label {results.get("seg_map_path")} of image {results.get("img_path")}'
        check_label_channels(label, results.get('seg_map_path'), where)
        if tuple(label.shape[:2]) != tuple(img_shape):
            raise ValueError(f'{where}: label size {tuple(label.shape[:2])} differs from image size '
                             f'{tuple(img_shape)} (H, W)')
        check_label_depth(results.get('seg_map_path'), where)
        num_classes = self.num_classes if self.num_classes is not None \
            else results.get('num_classes')
        if num_classes is not None:
            bad = (label >= num_classes) & (label != self.ignore_index)
            if bad.any():
                values = np.unique(label[bad])[:10].tolist()
                raise ValueError(f'{where}: label values {values} are outside the class range '
                                 f'0..{num_classes - 1} (ignore index {self.ignore_index})')
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_classes={self.num_classes}, '
                f'ignore_index={self.ignore_index})')


def _png_header(path):
    """(bit depth, colour type) of a PNG file from its IHDR header; (None, None) for other files."""
    try:
        with open(path, 'rb') as f:
            head = f.read(26)
    except (OSError, TypeError):
        return None, None
    if len(head) < 26 or not head.startswith(b'\x89PNG\r\n\x1a\n') or head[12:16] != b'IHDR':
        return None, None
    return head[24], head[25]


_PALETTE = 3  # PNG colour type of an indexed (palette) image


def check_label_channels(label, path, where):
    """Raise ``ValueError`` when a loaded label has several channels (a colour label: the
    ``*_color.png`` of Cityscapes, or a palette PNG decoded by OpenCV)."""
    if label.ndim == 2 or (label.ndim == 3 and label.shape[2] == 1):
        return
    hint = ('convert colour labels to class ids (tools/dataset_converters/ does it for GTA5, '
            'SYNTHIA and Cityscapes)')
    if _png_header(path)[1] == _PALETTE:
        hint = ('it is a palette PNG, which the cv2 backend decodes to colours: load it with '
                "LoadAnnotations(imdecode_backend='pillow') (the default), which reads its indices")
    raise ValueError(f'{where}: the label has shape {tuple(label.shape)} (H, W, channels); labels '
                     'must be single-channel class-id PNGs (e.g. Cityscapes *_labelTrainIds.png): '
                     f'{hint}')


def check_label_depth(path, where):
    """Raise ``ValueError`` when ``path`` is a 16-bit PNG holding values > 255 (an 8-bit label is
    expected; only the PNG header is read for 8-bit files)."""
    if path is None or _png_header(path)[0] != 16:
        return
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is not None and label.max() > 255:
        values = np.unique(label[label > 255])[:10].tolist()
        raise ValueError(f'{where}: the label is a 16-bit PNG with values {values} above 255; '
                         'LoadAnnotations reads labels as 8-bit (the values would wrap around '
                         'modulo 256): convert it to 8-bit class ids')
