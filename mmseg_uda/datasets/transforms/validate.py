import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ValidateSegLabel(BaseTransform):
    """Check a freshly loaded label against its image; raise with the file names on bad data.

    Place it right after ``LoadAnnotations`` (before any geometric transform of the label; the image may
    already be resized: the check uses the loaded image's ``ori_shape``).
    Checks that the label has the image's height and width and that every value is a class id
    ``0 <= v < num_classes`` or ``ignore_index``.

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
        num_classes = self.num_classes or results.get('num_classes')
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
