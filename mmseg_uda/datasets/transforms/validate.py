import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ValidateSegLabel(BaseTransform):
    """Check a freshly loaded label against its image; raise with the file names on bad data.

    Place it right after ``LoadAnnotations`` (before any geometric transform of the label; the image may
    already be resized: the check uses the loaded image's ``ori_shape``).
    Checks that the label has the image's height and width and that every value is a class id
    ``0 <= v < num_classes`` or ``ignore_index``. mmseg's ``LoadAnnotations`` casts labels to uint8,
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


def _png_bit_depth(path):
    """Bit depth of a PNG file from its IHDR header (None for other files)."""
    try:
        with open(path, 'rb') as f:
            head = f.read(25)
    except (OSError, TypeError):
        return None
    if len(head) < 25 or not head.startswith(b'\x89PNG\r\n\x1a\n') or head[12:16] != b'IHDR':
        return None
    return head[24]


def check_label_depth(path, where):
    """Raise ``ValueError`` when ``path`` is a 16-bit PNG holding values > 255 (an 8-bit label is
    expected; only the 25-byte header is read for 8-bit files)."""
    if path is None or _png_bit_depth(path) != 16:
        return
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is not None and label.max() > 255:
        values = np.unique(label[label > 255])[:10].tolist()
        raise ValueError(f'{where}: the label is a 16-bit PNG with values {values} above 255; '
                         'LoadAnnotations reads labels as 8-bit (the values would wrap around '
                         'modulo 256): convert it to 8-bit class ids')
