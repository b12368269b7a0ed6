"""Offline CUT stylisation of training images with a frozen generator (CONFETI spec §3.0, §6
item 14)."""
import os
import os.path as osp
import re

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform
from mmseg.registry import MODELS, TRANSFORMS

from ...models.style.resnet_generator import ResnetGenerator

MULTIPLE = 2 ** ResnetGenerator.NUM_DOWNSAMPLING  # 𝒢 needs H, W multiples of 4
MIN_SIZE = 2 * MULTIPLE  # the residual blocks reflect-pad by 1 at 1/4 scale: at least 2 pixels


def generator_state_dict(checkpoint, path='<checkpoint>'):
    """The generator weights of a loaded checkpoint.

    Args:
        checkpoint (dict): a ``CUTTranslator`` checkpoint of mmengine (``generator.*`` keys under
            ``state_dict``), such a state dict itself, or a bare ``ResnetGenerator`` state dict
            (``model.*`` keys).
        path (str): the file it came from, for the error message.

    Returns:
        dict[str, Tensor]: the ``ResnetGenerator`` state dict.
    """
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f'CUTStylize: {path} holds a {type(checkpoint).__name__}, not a state '
                         'dict')
    prefix = 'generator.'
    gen = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not gen and any(k.startswith('model.') for k in state):
        gen = dict(state)  # a bare generator state dict
    if not gen or 'model.1.weight' not in gen:
        keys = list(state)
        raise KeyError(f'CUTStylize: no generator weights (generator.* of a CUTTranslator '
                       f'checkpoint, or a bare ResnetGenerator state dict) in {path}; keys found '
                       f'({len(keys)}): {keys[:10]}{" ..." if len(keys) > 10 else ""}')
    return gen


def infer_generator_cfg(state):
    """``ResnetGenerator`` config (channels, ngf, residual blocks) read from its state dict."""
    first = state['model.1.weight']  # the 7×7 stem conv: (ngf, in_channels, 7, 7)
    blocks = {k.split('.')[1] for k in state if re.match(r'model\.\d+\.conv_block\.', k)}
    last = max(int(k.split('.')[1]) for k in state if re.match(r'model\.\d+\.weight$', k))
    return dict(type='ResnetGenerator', in_channels=first.shape[1], ngf=first.shape[0],
                num_blocks=len(blocks), out_channels=state[f'model.{last}.weight'].shape[0])


@TRANSFORMS.register_module()
class CUTStylize(BaseTransform):
    """Translate the image with a frozen CUT generator 𝒢 (offline stylisation, spec §3.0).

    The sample's image (HWC BGR, 0-255, as mmcv loads it) becomes RGB in [−1, 1], is padded by
    reflection to multiples of 4 (at least 8; images under 4 pixels replicate), translated under
    ``no_grad`` on ``device``, cropped back and returned as BGR in the input dtype (uint8
    rounded). Labels are unchanged. Place it *after* the geometric transforms (resize, crop,
    flip): 𝒢 is meant for training crops (spec §6 item 14), and smaller images are cheaper. 𝒢 is
    built and loaded lazily at first use in each process, so each
    dataloader worker holds its own copy (and a CUDA ``device`` is never touched before the fork).

    Args:
        checkpoint (str): a ``CUTTranslator`` checkpoint of mmengine (``generator.*`` keys under
            ``state_dict``) or a bare ``ResnetGenerator`` state dict (e.g. ``torch.save`` of
            ``generator.state_dict()``).
        generator (dict, optional): ``ResnetGenerator`` config; loaded with ``strict=True``.
            Default: None, read from the checkpoint (channels, ngf, number of blocks).
        device (str): device 𝒢 runs on. Default: 'cpu'.
        prob (float): probability of translating a sample. Default: 1.0.
    """

    def __init__(self, checkpoint, generator=None, device='cpu', prob=1.0):
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'CUTStylize: checkpoint {checkpoint} does not exist')
        if not 0 <= prob <= 1:
            raise ValueError(f'CUTStylize: prob must be in [0, 1], got {prob}')
        self.checkpoint, self.generator_cfg = checkpoint, generator
        self.device, self.prob = torch.device(device), prob
        self._generator, self._pid = None, None

    def __getstate__(self):  # a spawned worker builds its own 𝒢
        state = dict(self.__dict__)
        state.update(_generator=None, _pid=None)
        return state

    @property
    def generator(self):
        """The frozen 𝒢, built on first use in this process."""
        if self._generator is None or self._pid != os.getpid():
            ckpt = torch.load(self.checkpoint, map_location='cpu', weights_only=False)  # trusted
            state = generator_state_dict(ckpt, self.checkpoint)
            cfg = self.generator_cfg or infer_generator_cfg(state)
            gen = MODELS.build(cfg)
            gen.load_state_dict(state, strict=True)
            self._generator = gen.to(self.device).eval().requires_grad_(False)
            self._pid = os.getpid()
        return self._generator

    def stylize(self, img):
        """Translate one HWC BGR 0-255 image; returns it with the same shape and dtype."""
        if img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f'CUTStylize: expects an HxWx3 BGR image, got shape {img.shape}')
        h, w = img.shape[:2]
        x = torch.from_numpy(np.ascontiguousarray(img[..., ::-1])).to(self.device)
        x = x.permute(2, 0, 1)[None].float() / 127.5 - 1.  # (1, 3, H, W) RGB in [−1, 1]
        pad_h, pad_w = max(MIN_SIZE - h, -h % MULTIPLE), max(MIN_SIZE - w, -w % MULTIPLE)
        if pad_h or pad_w:  # reflection needs the pad below the size: tiny images replicate
            mode = 'reflect' if pad_h < h and pad_w < w else 'replicate'
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        with torch.no_grad():
            y = self.generator(x)[0, :, :h, :w]
        y = ((y + 1.) * 127.5).clamp(0, 255).permute(1, 2, 0).flip(-1).cpu().numpy()
        if np.issubdtype(img.dtype, np.integer):
            y = y.round()
        return y.astype(img.dtype)

    def transform(self, results):
        if self.prob < 1 and np.random.rand() >= self.prob:
            return results
        results['img'] = self.stylize(results['img'])
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(checkpoint={self.checkpoint!r}, '
                f'generator={self.generator_cfg!r}, device={str(self.device)!r}, '
                f'prob={self.prob})')
