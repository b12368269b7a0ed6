import torch
import torch.nn.functional as F
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..decode_heads.hrda_head import HRDAHead
from ..utils.checks import COUNT, POSITIVE, check_keys
from ..utils.global_batch import rand_images
from .uda_base import pixel_labels

HRDA_RULES = dict(context_scale=dict(POSITIVE, high=1), crop_coord_divisible=COUNT,
                  detail_crop_size=dict(COUNT, form='sequence'),
                  detail_slide_stride=dict(COUNT, form='sequence'))


@MODELS.register_module()
class HRDAEncoderDecoder(EncoderDecoder):
    """HRDA: multi-resolution training and inference (Hoyer et al., ECCV 2022).

    The input is a full-resolution *context crop* (the data pipeline's crop, e.g. 1024x1024).
    The shared encoder and head (:class:`HRDAHead`) run on

    - the low-resolution (LR) context: the crop resized by ``context_scale`` (0.5 → 512x512);
    - the high-resolution (HR) detail: a ``detail_crop_size`` crop of the full-resolution input,
      in training one random crop per image (HRDA's code draws one per batch; per image is as
      unbiased and sees more positions) at coordinates divisible by ``crop_coord_divisible``
      (8 = the context prediction's stride in input pixels, so the detail features align with
      the context features), at inference sliding crops with
      stride ``detail_slide_stride`` that cover the whole context (HRDA's overlapping slide);

    and the scale attention fuses both on the detail prediction's grid (:meth:`HRDAHead.fuse`).

    Interface for the UDA segmentors (they call these instead of ``extract_feat`` +
    ``decode_head.forward``, which raises for HRDA):

    - :meth:`multires_logits` ``(img, detail_box=None, generator=None)`` → dict with ``fused``,
      ``hr``, ``lr``, ``attention``, ``box``, ``feats``: the student's training pass on a batch
      of context crops (source, or ClassMix-ed full-resolution crops).
    - :meth:`multires_losses` ``(outputs, labels, weights=None, loss_fn=None, scale=1.0)``:
      (1 − λ_d) · loss(fused, labels, weights) + λ_d · loss(hr, labels and weights cropped to
      the detail boxes); ``loss_fn`` is e.g. ``UDABaseSegmentor.decode_losses`` (same signature)
      so DACS's confidence weights q and its global-batch normalisation apply to both terms.
    - :meth:`context_logits` ``(img, return_feats=False)``: fused logits (B, C, H, W) at the
      input size with the detail prediction slid over the whole crop and fused everywhere: the
      teacher's pseudo-labels (softmax of these; with ``return_feats`` also its LR features) and
      each window of the sliding inference.
    - :meth:`extract_feat` returns the LR context features (HRDA's ``feature_scale`` =
      ``context_scale``), e.g. for DAFormer's feature distance; ``multires_logits`` returns the
      same features as ``feats``.

    Random draws: the detail boxes come from ``generator`` when given, else from
    :func:`~mmseg_uda.models.utils.global_batch.rand_images` (one draw per image for the global
    batch inside a UDA iteration, so N processes crop as one process); :func:`draw_detail_boxes`
    draws them for any number of images from any generator.

    Args:
        context_scale (float): LR scale of the context crop. Default 0.5.
        detail_crop_size (tuple[int]): (h, w) of the HR detail crop in input pixels.
            Default (512, 512).
        crop_coord_divisible (int): the detail crop's coordinates (and at inference the padded
            context's size) are multiples of it. Default 8.
        detail_slide_stride (tuple[int] | None): stride of the sliding detail crops at
            inference; None: half the crop (HRDA's overlapping slide). Default None.
        **kwargs: :class:`mmseg.models.EncoderDecoder` arguments; ``decode_head`` must be an
            :class:`HRDAHead`. ``test_cfg`` slides context windows over the full image (HRDA:
            ``dict(mode='slide', crop_size=(1024, 1024), stride=(512, 512))``).
    """

    def __init__(self, backbone, decode_head, context_scale=0.5, detail_crop_size=(512, 512),
                 crop_coord_divisible=8, detail_slide_stride=None, **kwargs):
        keys = dict(context_scale=context_scale, crop_coord_divisible=crop_coord_divisible,
                    detail_crop_size=detail_crop_size)
        if detail_slide_stride is not None:
            keys['detail_slide_stride'] = detail_slide_stride
        check_keys('HRDAEncoderDecoder', keys, HRDA_RULES)
        super().__init__(backbone, decode_head, **kwargs)
        if not isinstance(self.decode_head, HRDAHead):
            raise TypeError(f'HRDAEncoderDecoder: model.decode_head must be an HRDAHead, got '
                            f'{type(self.decode_head).__name__}')
        if self.with_auxiliary_head:
            raise ValueError('HRDAEncoderDecoder: model.auxiliary_head is not supported')
        d = crop_coord_divisible
        crop = _pair(detail_crop_size, 'detail_crop_size')
        stride = tuple(c // 2 for c in crop) if detail_slide_stride is None else \
            _pair(detail_slide_stride, 'detail_slide_stride')
        for key, value in (('detail_crop_size', crop), ('detail_slide_stride', stride)):
            if any(v % d for v in value):
                raise ValueError(f'HRDAEncoderDecoder: model.{key}={value} must be multiples of '
                                 f'crop_coord_divisible={d}')
        self.context_scale = context_scale
        self.detail_crop_size = crop
        self.crop_coord_divisible = d
        self.detail_slide_stride = stride

    # -- the two scales ------------------------------------------------------------------------
    def extract_feat(self, inputs):
        """Backbone features of the LR context (``inputs`` resized by ``context_scale``)."""
        return super().extract_feat(self._context(inputs))

    def _context(self, inputs):
        if self.context_scale == 1:
            return inputs
        return resize(inputs, scale_factor=self.context_scale, mode='bilinear',
                      align_corners=self.align_corners)

    def _detail_logits(self, crops):
        return self.decode_head.seg_logits(super().extract_feat(crops))

    def multires_logits(self, inputs, detail_box=None, generator=None):
        """HRDA's training pass on full-resolution context crops (context and detail crop).

        Args:
            inputs (Tensor): (B, 3, H, W) context crops; H and W multiples of
                ``crop_coord_divisible`` (pad with the data preprocessor's ``size``).
            detail_box (Tensor | None): (B, 4) or (4, ) detail boxes (y1, y2, x1, x2) in input
                pixels, ``detail_crop_size`` large, coordinates multiples of
                ``crop_coord_divisible``; None: drawn (:func:`draw_detail_boxes`).
            generator (torch.Generator | None): draws the boxes when ``detail_box`` is None;
                None: the UDA iteration's shared generator (``rand_images``).

        Returns:
            dict: ``fused`` (B, C, H/s, W/s) on the detail grid (s: the head's output stride),
            ``hr`` (B, C, h/s, w/s) detail logits, ``lr`` (B, C, ·, ·) context logits,
            ``attention`` (B, C or 1, ·, ·) on the context grid, ``box`` (B, 4) long,
            ``feats`` the LR context features.
        """
        b, _, h, w = inputs.shape
        d = self.crop_coord_divisible
        if h % d or w % d:
            raise ValueError(f'HRDAEncoderDecoder: context crops of {h}x{w} are not multiples of '
                             f'crop_coord_divisible={d}; pad them (data_preprocessor.size)')
        if detail_box is None:
            box = draw_detail_boxes(b, (h, w), self.detail_crop_size, d, generator,
                                    inputs.device)
        else:
            box = self._checked_box(detail_box, b, (h, w))
        feats = self.extract_feat(inputs)
        lr = self.decode_head.seg_logits(feats)
        attention = self.decode_head.attention(feats)
        hr = self._detail_logits(crop_boxes(inputs, box))
        s = _output_stride(self.detail_crop_size, hr.shape[2:])
        if d % s:
            raise ValueError(f'HRDAEncoderDecoder: crop_coord_divisible={d} is not a multiple of '
                             f'the head output stride {s}')
        grid_box = box // s
        placed = place_boxes(hr, grid_box, (h // s, w // s))
        fused = self.decode_head.fuse(lr, attention, placed, box_mask(grid_box, (h // s, w // s),
                                                                      hr.dtype))
        return dict(fused=fused, hr=hr, lr=lr, attention=attention, box=box, feats=feats)

    def multires_losses(self, outputs, labels, weights=None, loss_fn=None, scale=1.0):
        """HRDA's loss: (1 − λ_d) · L(fused, y) + λ_d · L(hr, y cropped to the box).

        Args:
            outputs (dict): :meth:`multires_logits`'s output.
            labels (Tensor): (B, H, W) long labels of the full-resolution context crops.
            weights (Tensor | None): (B, H, W) per-pixel weights (DACS's q), cropped like the
                labels for the detail term.
            loss_fn (callable | None): ``loss_fn(logits, labels, weights, scale=...)`` → dict of
                ``decode.*`` losses that resizes logits to the labels, e.g. a UDA segmentor's
                ``decode_losses``; default :meth:`HRDAHead.pixel_losses`.
            scale (float): multiplies both terms (e.g. DACS's mixed-loss weight).

        Returns:
            dict: the fused term's keys as ``loss_fn`` names them (``decode.loss_ce``,
            ``decode.acc_seg``) and the detail term's with an ``hr.`` prefix.
        """
        head = self.decode_head
        loss_fn = loss_fn or head.pixel_losses
        box = outputs['box']
        if labels.dim() != 3 or labels.shape[0] != box.shape[0]:
            raise ValueError(f'HRDAEncoderDecoder.multires_losses: labels must be (B, H, W) for '
                             f'{box.shape[0]} images, got {tuple(labels.shape)}')
        if weights is not None and weights.shape != labels.shape:
            raise ValueError(f'HRDAEncoderDecoder.multires_losses: weights {tuple(weights.shape)}'
                             f' must have the labels\' shape {tuple(labels.shape)}')
        s = self.detail_crop_size[0] // outputs['hr'].shape[2]
        if tuple(labels.shape[1:]) != tuple(s * n for n in outputs['fused'].shape[2:]):
            raise ValueError(f'HRDAEncoderDecoder.multires_losses: labels of '
                             f'{tuple(labels.shape[1:])} are not the labels of the '
                             f'{tuple(s * n for n in outputs["fused"].shape[2:])} context crops')
        lam = head.hr_loss_weight
        losses = dict(loss_fn(outputs['fused'], labels, weights, scale=scale * (1 - lam)))
        if lam > 0:
            box = self._checked_box(box, box.shape[0], labels.shape[1:])
            hr_weights = None if weights is None else crop_boxes(weights, box)
            hr_losses = loss_fn(outputs['hr'], crop_boxes(labels, box), hr_weights,
                                scale=scale * lam)
            losses.update({f'hr.{k}': v for k, v in hr_losses.items()})
        return losses

    # -- inference and pseudo-labels -------------------------------------------------------------
    def context_logits(self, inputs, return_feats=False):
        """Fused logits (B, C, H, W) at the input size, the detail slid over the whole context.

        The input is padded (bottom/right, zeros) to multiples of ``crop_coord_divisible``;
        sliding ``detail_crop_size`` crops (smaller when the context is) with stride
        ``detail_slide_stride`` cover it, overlapping detail logits are averaged, and the
        attention fuses everywhere (HRDA's test-time fusion). Used for the teacher's
        pseudo-labels and for each window of :meth:`slide_inference`. ``return_feats``: also
        return the LR context features (of the padded input), as ``(logits, feats)``.
        """
        b, _, h, w = inputs.shape
        d = self.crop_coord_divisible
        pad_h, pad_w = -h % d, -w % d
        x = F.pad(inputs, (0, pad_w, 0, pad_h)) if pad_h or pad_w else inputs
        hp, wp = x.shape[2:]
        feats = self.extract_feat(x)
        lr = self.decode_head.seg_logits(feats)
        attention = self.decode_head.attention(feats)
        crop = (min(self.detail_crop_size[0], hp), min(self.detail_crop_size[1], wp))
        boxes = slide_boxes((hp, wp), crop, self.detail_slide_stride)
        # all detail crops in one pass: the same boxes for every image, P·B crops
        hr = self._detail_logits(torch.cat([x[:, :, y1:y2, x1:x2] for y1, y2, x1, x2 in boxes]))
        s = _output_stride(crop, hr.shape[2:])
        summed = hr.new_zeros((b, hr.shape[1], hp // s, wp // s))
        count = hr.new_zeros((1, 1, hp // s, wp // s))
        for i, (y1, y2, x1, x2) in enumerate(boxes):
            summed[:, :, y1 // s:y2 // s, x1 // s:x2 // s] += hr[i * b:(i + 1) * b]
            count[:, :, y1 // s:y2 // s, x1 // s:x2 // s] += 1
        fused = self.decode_head.fuse(lr, attention, summed / count.clamp(min=1),
                                      (count > 0).to(hr.dtype))
        fused = resize(fused, size=(hp, wp), mode='bilinear', align_corners=self.align_corners)
        fused = fused[:, :, :h, :w]
        return (fused, feats) if return_feats else fused

    def encode_decode(self, inputs, batch_img_metas):
        """:meth:`context_logits` resized to ``img_shape`` (one window of the sliding test)."""
        logits = self.context_logits(inputs)
        size = tuple(batch_img_metas[0]['img_shape'])
        if tuple(logits.shape[2:]) != size:
            logits = resize(logits, size=size, mode='bilinear', align_corners=self.align_corners)
        return logits

    def _forward(self, inputs, data_samples=None):
        return self.context_logits(inputs)

    def loss(self, inputs, data_samples):
        """Supervised HRDA training: :meth:`multires_losses` of :meth:`multires_logits`."""
        return self.multires_losses(self.multires_logits(inputs), pixel_labels(data_samples))

    # -- boxes -------------------------------------------------------------------------------------
    def _checked_box(self, box, batch, size):
        box = torch.as_tensor(box, dtype=torch.long)
        box = box.expand(batch, 4) if box.dim() == 1 else box
        d, (ch, cw) = self.crop_coord_divisible, self.detail_crop_size
        bad = None
        if box.shape != (batch, 4):
            bad = f'shape {tuple(box.shape)}, expected ({batch}, 4)'
        elif ((box[:, 1] - box[:, 0] != ch) | (box[:, 3] - box[:, 2] != cw)).any():
            bad = f'not {ch}x{cw} (detail_crop_size)'
        elif (box[:, [0, 2]] < 0).any() or (box[:, 1] > size[0]).any() or \
                (box[:, 3] > size[1]).any():
            bad = f'outside the {size[0]}x{size[1]} context'
        elif (box % d).any():
            bad = f'coordinates not multiples of crop_coord_divisible={d}'
        if bad:
            raise ValueError(f'HRDAEncoderDecoder: detail boxes (y1, y2, x1, x2) {box.tolist()}: '
                             f'{bad}')
        return box


def _pair(value, key):
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f'HRDAEncoderDecoder: model.{key} must be (h, w), got {value}')
    return value


def _output_stride(crop, logits_size):
    s = crop[0] // logits_size[0]
    if s * logits_size[0] != crop[0] or s * logits_size[1] != crop[1]:
        raise ValueError(f'HRDAEncoderDecoder: the head predicts {tuple(logits_size)} for a '
                         f'{crop[0]}x{crop[1]} detail crop, not an integer output stride')
    return s


def draw_detail_boxes(n, size, crop_size, divisible, generator=None, device=None):
    """Random detail boxes (n, 4) long (y1, y2, x1, x2) inside a context of ``size`` (H, W).

    Each offset is uniform over the multiples of ``divisible`` that keep the crop inside (HRDA's
    ``get_crop_bbox``). Draws come from ``generator`` (n × 2 uniforms, CPU), else from
    :func:`rand_images` (the UDA iteration's shared generator, drawn for the global batch).
    """
    (h, w), (ch, cw) = size, crop_size
    if ch > h or cw > w:
        raise ValueError(f'HRDAEncoderDecoder: the {ch}x{cw} detail crop (detail_crop_size) does '
                         f'not fit the {h}x{w} context crop')
    u = rand_images(n, 2) if generator is None else \
        torch.rand((n, 2), generator=generator, device=generator.device)
    steps = torch.tensor([(h - ch) // divisible + 1, (w - cw) // divisible + 1], device=u.device)
    offset = ((u * steps).long().clamp(max=steps - 1) * divisible).to(device)
    y1, x1 = offset.unbind(1)
    return torch.stack([y1, y1 + ch, x1, x1 + cw], dim=1)


def slide_boxes(size, crop, stride):
    """Boxes (y1, y2, x1, x2) of crops ``crop`` sliding with ``stride`` over ``size``; the last
    row/column is shifted inside (mmseg's slide inference), so every pixel is covered."""
    (h, w), (ch, cw), (sh, sw) = size, crop, stride
    rows = max(h - ch + sh - 1, 0) // sh + 1
    cols = max(w - cw + sw - 1, 0) // sw + 1
    boxes = []
    for i in range(rows):
        for j in range(cols):
            y2, x2 = min(i * sh + ch, h), min(j * sw + cw, w)
            boxes.append((max(y2 - ch, 0), y2, max(x2 - cw, 0), x2))
    return boxes


def _box_index(box, h, w):
    """Advanced indices (B, 1, 1), (B, h, 1), (B, 1, w) of the pixels of each image's box."""
    ar_h = torch.arange(h, device=box.device)
    ar_w = torch.arange(w, device=box.device)
    b = torch.arange(box.shape[0], device=box.device)[:, None, None]
    return b, (box[:, 0, None] + ar_h)[:, :, None], (box[:, 2, None] + ar_w)[:, None, :]


def crop_boxes(x, box):
    """Crop each image of ``x`` (B, ..., H, W) to its box (B, 4); all boxes of one size."""
    h, w = int(box[0, 1] - box[0, 0]), int(box[0, 3] - box[0, 2])
    box = box.to(x.device)
    b, y, xx = _box_index(box, h, w)
    lead = x.shape[1:-2]
    flat = x.reshape(x.shape[0], -1, *x.shape[-2:])
    out = flat[b, :, y, xx]  # (B, h, w, K): the indexed dimensions come first
    return out.permute(0, 3, 1, 2).reshape(x.shape[0], *lead, h, w)


def place_boxes(crops, box, size):
    """Crops (B, C, h, w) placed at their boxes (B, 4) on a zero (B, C, H, W) canvas."""
    bsz, c, h, w = crops.shape
    b, y, x = _box_index(box.to(crops.device), h, w)
    canvas = crops.new_zeros((bsz, *size, c))
    return canvas.index_put((b, y, x), crops.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def box_mask(box, size, dtype=torch.float32):
    """(B, 1, H, W) mask, 1 inside each image's box (B, 4)."""
    rows = torch.arange(size[0], device=box.device)
    cols = torch.arange(size[1], device=box.device)
    inside_y = (rows >= box[:, 0, None]) & (rows < box[:, 1, None])
    inside_x = (cols >= box[:, 2, None]) & (cols < box[:, 3, None])
    return (inside_y[:, :, None] & inside_x[:, None, :])[:, None].to(dtype)
