"""Convert a DAFormer / HRDA / MIC checkpoint (their mmseg 0.16 forks) to this project's models.

``python tools/model_converters/daformer2mmseg.py SRC DST [--network student|teacher]
[--format mmseg|uda] [--config CONFIG] [--iter N] [--drop PREFIX ...]``

SRC is the ``state_dict`` of their UDA wrapper (``model.*`` the student, ``ema_model.*`` the EMA
teacher, ``imnet_model.*`` the feature-distance ImageNet model, which is dropped) or a plain
checkpoint (``backbone.*``, ``decode_head.*``, e.g. a source-only run). Every tensor is renamed:

- SegFormer's MiT -> mmseg's ``MixVisionTransformer``: ``patch_embed{i}.proj/norm`` ->
  ``layers.{i-1}.0.projection/norm``, ``block{i}.{j}`` -> ``layers.{i-1}.1.{j}`` (``attn.q`` and
  ``attn.kv`` concatenated into ``attn.attn.in_proj_*``, ``attn.proj`` -> ``attn.attn.out_proj``,
  Mix-FFN ``mlp.fc1`` / ``mlp.dwconv.dwconv`` / ``mlp.fc2`` -> ``ffn.layers.0/1/4``, the Linear
  weights as 1x1 convs), ``norm{i}`` -> ``layers.{i-1}.2``;
- DAFormer's ``DAFormerHead`` -> ours: ``embed_layers.k.proj`` (Linear) -> ``embed_layers.k``
  (1x1 conv), ``fuse_layer`` -> ``fusion`` (sep-ASPP + bottleneck, or HRDA's 1x1 ConvModule),
  ``conv_seg`` unchanged;
- HRDA's ``HRDAHead``: ``decode_head.head.*`` and ``decode_head.scale_attention.*`` (both
  DAFormerHeads) converted likewise under the same names.

Output (``DST``): ``--format mmseg`` (default) writes a plain mmseg checkpoint
``{'state_dict': {backbone.*, decode_head.*}, 'meta': ...}`` of the ``--network`` (default the
student, whose numbers the papers report), which ``tools/test.py`` loads with a DAFormer config,
plain or UDA (a UDA model loads it into student and teacher). ``--format uda`` writes ``student.*``
and ``teacher.module.*`` (plus the teacher's update count, so the EMA ramp stays saturated) for a
UDA run to warm-start from with ``load_from``.

LayerNorm eps: SegFormer's code uses eps 1e-5 in the patch-embedding norms and the norms after the
spatial-reduction convs, mmseg's MiT 1e-6 everywhere. Evaluate with the backbone type
``SegFormerMiT`` (``mmseg_uda/models/backbones/segformer_mit.py``), e.g. ``--cfg-options
model.segmentor.backbone.type=SegFormerMiT`` (UDA config) or ``model.backbone.type=SegFormerMiT``
(plain config). ``--config CONFIG`` does it for you: it checks that every converted tensor fits the
network of CONFIG (names and shapes) and writes ``DST`` with the suffix ``.py``: CONFIG with that
backbone type and no ImageNet initialisation.

Keys that no rule maps stop the conversion (they are listed); ``--drop PREFIX`` leaves out the
checkpoint keys under PREFIX on purpose (listed in the summary).
"""
import argparse
import copy
import os
import os.path as osp
import re
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # any folder

import mmseg_uda  # noqa: E402,F401  (compatibility fixes and registration before mmseg loads)
import mmseg_uda.models.backbones  # noqa: E402,F401  (SegFormerMiT)
import torch  # noqa: E402

NETWORK_PREFIXES = {'student': 'model.', 'teacher': 'ema_model.'}
DROPPED_PREFIXES = ('imnet_model.', )  # DAFormer's frozen ImageNet model for the feature distance
PLAIN_PREFIXES = ('backbone.', 'decode_head.')
BACKBONE_TYPE = 'SegFormerMiT'
BACKBONE_MODULE = 'mmseg_uda.models.backbones'

_PARAM = r'(weight|bias)'
_BN_PARAM = r'(weight|bias|running_mean|running_var|num_batches_tracked)'
# one DAFormer block: their sub-module -> (ours, Linear weight that becomes a 1x1 conv)
_BLOCK_PARTS = {
    'norm1': ('norm1', False),
    'norm2': ('norm2', False),
    'attn.proj': ('attn.attn.out_proj', False),
    'attn.sr': ('attn.sr', False),
    'attn.norm': ('attn.norm', False),
    'mlp.fc1': ('ffn.layers.0', True),
    'mlp.dwconv.dwconv': ('ffn.layers.1', False),
    'mlp.fc2': ('ffn.layers.4', True),
}
_CONV_OR_BN = rf'(?:conv\.{_PARAM}|bn\.{_BN_PARAM})'
_SEP_CONV = rf'(?:(?:depthwise|pointwise)_conv\.{_CONV_OR_BN})'


class ConversionError(ValueError):
    """A checkpoint that cannot be converted; the message names the file, keys and shapes."""


# -- reading ---------------------------------------------------------------------------------------
def load_checkpoint(path):
    """``(state_dict, meta)`` of a checkpoint file (with a ``state_dict`` or the bare dict)."""
    # trusted file chosen by the user; mmcv 1.x metas hold non-tensor objects (see mmseg_uda.compat)
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    if not isinstance(ckpt, dict):
        raise ConversionError(f'{path}: expected a checkpoint dict, got {type(ckpt).__name__}')
    state_dict = ckpt.get('state_dict', ckpt)
    meta = ckpt.get('meta') if 'state_dict' in ckpt else None
    not_tensors = [k for k, v in state_dict.items() if not isinstance(v, torch.Tensor)]
    if not_tensors:
        raise ConversionError(f'{path}: no state_dict of tensors (keys {not_tensors[:5]} are not '
                              'tensors)')
    return state_dict, meta if isinstance(meta, dict) else {}


def split_networks(state_dict, src, drop=()):
    """Sort the keys of their checkpoint into networks.

    Returns a dict: ``layout`` (``'uda'`` or ``'plain'``), ``networks`` (name -> weights without
    the network prefix; ``'student'`` only for a plain checkpoint) and ``dropped`` (prefix -> number
    of keys left out: ``imnet_model.`` and ``drop``).
    """
    drop = tuple(drop)
    dropped = OrderedDict()
    for prefix in DROPPED_PREFIXES + drop:
        n = sum(k.startswith(prefix) for k in state_dict)
        if n:
            dropped[prefix] = n
        elif prefix in drop:
            raise ConversionError(f'{src}: --drop {prefix!r} matches no key (top-level names: '
                                  f'{top_names(state_dict)})')
    kept = OrderedDict((k, v) for k, v in state_dict.items()
                       if not k.startswith(DROPPED_PREFIXES + drop))
    if any(k.startswith(tuple(NETWORK_PREFIXES.values())) for k in kept):
        networks = OrderedDict()
        for name, prefix in NETWORK_PREFIXES.items():
            weights = OrderedDict((k[len(prefix):], v) for k, v in kept.items()
                                  if k.startswith(prefix))
            if weights:
                networks[name] = weights
        rest = [k for k in kept if not k.startswith(tuple(NETWORK_PREFIXES.values()))]
        if rest:
            raise ConversionError(
                f'{src}: {len(rest)} keys belong to no network (model.* student, ema_model.* '
                f'teacher, imnet_model.* dropped): {rest[:10]}; leave them out on purpose with '
                f'--drop PREFIX')
        return dict(layout='uda', networks=networks, dropped=dropped)
    if any(k.startswith(PLAIN_PREFIXES) for k in kept):
        return dict(layout='plain', networks=OrderedDict(student=kept), dropped=dropped)
    raise ConversionError(
        f'{src}: no recognisable keys: expected model.* / ema_model.* (a DAFormer, HRDA or MIC UDA '
        f'checkpoint) or backbone.* / decode_head.* (a plain one); found e.g. '
        f'{list(state_dict)[:5]} (top-level names: {top_names(state_dict)})')


def top_names(state_dict):
    return sorted({k.split('.')[0] for k in state_dict})


# -- renaming --------------------------------------------------------------------------------------
def linear_as_conv(key, tensor):
    """A Linear weight (out, in) as the weight of a 1x1 conv (out, in, 1, 1)."""
    if tensor.dim() != 2:
        raise ConversionError(f'{key}: expected a Linear weight (2-D), got shape '
                              f'{tuple(tensor.shape)}')
    return tensor[:, :, None, None]


def convert_mit(pending, where):
    """Pop SegFormer MiT keys from ``pending`` (keys relative to the backbone) and return them
    renamed to mmseg's ``MixVisionTransformer``, with ``info`` (stages, depths, dims)."""
    out = OrderedDict()
    depths, dims = {}, {}
    for key in list(pending):
        if key not in pending:  # a kv tensor taken with its q
            continue
        m = re.fullmatch(rf'patch_embed(\d+)\.(proj|norm)\.{_PARAM}', key)
        if m:
            stage = stage_index(m[1], where + key)
            value = pending.pop(key)
            if m[2] == 'proj' and m[3] == 'weight':
                dims[stage] = value.shape[0]
            part = 'projection' if m[2] == 'proj' else 'norm'
            out[f'layers.{stage}.0.{part}.{m[3]}'] = value
            continue
        m = re.fullmatch(rf'norm(\d+)\.{_PARAM}', key)
        if m:
            out[f'layers.{stage_index(m[1], where + key)}.2.{m[2]}'] = pending.pop(key)
            continue
        m = re.fullmatch(rf'block(\d+)\.(\d+)\.(.+)\.{_PARAM}', key)
        if not m:
            continue
        stage, block, part, param = stage_index(m[1], where + key), int(m[2]), m[3], m[4]
        depths[stage] = max(depths.get(stage, 0), block + 1)
        ours = f'layers.{stage}.1.{block}.'
        if part in ('attn.q', 'attn.kv'):
            out[f'{ours}attn.attn.in_proj_{param}'] = merge_q_kv(
                pending, f'block{m[1]}.{block}.attn.', param, where)
        elif part in _BLOCK_PARTS:
            name, linear = _BLOCK_PARTS[part]
            value = pending.pop(key)
            if linear and param == 'weight':
                value = linear_as_conv(where + key, value)
            out[f'{ours}{name}.{param}'] = value
    stages = sorted(dims)
    info = dict(stages=len(stages), depths=[depths.get(s, 0) for s in stages],
                dims=[int(dims[s]) for s in stages])
    return out, info


def stage_index(number, key):
    """Their 1-based stage number as our 0-based index."""
    if int(number) < 1:
        raise ConversionError(f'{key}: stage numbers of SegFormer\'s MiT start at 1')
    return int(number) - 1


def merge_q_kv(pending, attn, param, where):
    """Pop ``{attn}q.{param}`` and ``{attn}kv.{param}`` and return ``cat(q, kv)``, the
    ``in_proj_{param}`` of ``nn.MultiheadAttention`` (rows: q, then k, then v, as kv holds k, v)."""
    q_key, kv_key = f'{attn}q.{param}', f'{attn}kv.{param}'
    if q_key not in pending or kv_key not in pending:
        have, lack = (q_key, kv_key) if q_key in pending else (kv_key, q_key)
        raise ConversionError(f'{where}{have} has no {where}{lack}: q and kv are needed together')
    q, kv = pending.pop(q_key), pending.pop(kv_key)
    fits = kv.dim() == q.dim() and kv.shape[0] == 2 * q.shape[0] and kv.shape[1:] == q.shape[1:]
    if not fits:
        raise ConversionError(f'{where}{q_key} {tuple(q.shape)} and {where}{kv_key} '
                              f'{tuple(kv.shape)} do not make one in_proj_{param} (kv must have '
                              "twice q's rows)")
    return torch.cat([q, kv])


def convert_daformer_head(pending, where):
    """Pop the keys of one DAFormer ``DAFormerHead`` from ``pending`` (keys relative to the head)
    and return them renamed to our ``DAFormerHead``, with ``info`` (fusion, outputs, embeddings)."""
    out = OrderedDict()
    levels = sorted({int(m[1]) for m in (re.fullmatch(r'embed_layers\.(\d+)\..*', k)
                                         for k in pending) if m})
    rank = {level: i for i, level in enumerate(levels)}  # their keys: in_index; ours: position
    fusion = None
    for key in list(pending):
        m = re.fullmatch(rf'embed_layers\.(\d+)\.proj\.{_PARAM}', key)
        if m:
            value = pending.pop(key)
            if m[2] == 'weight':
                value = linear_as_conv(where + key, value)
            out[f'embed_layers.{rank[int(m[1])]}.{m[2]}'] = value
            continue
        m = re.fullmatch(rf'fuse_layer\.aspp_modules\.(\d+)\.((?:{_CONV_OR_BN})|(?:{_SEP_CONV}))',
                         key)
        if m:
            if m[2] == 'conv.weight' and pending[key].shape[2:] != (1, 1):
                raise ConversionError(
                    f'{where}{key} has a {tuple(pending[key].shape[2:])} kernel: a plain (not '
                    "depthwise-separable) ASPP branch; our DAFormerHead implements DAFormer's "
                    "sep-ASPP ('daformer_sepaspp') and the 1x1 conv fusion only")
            fusion = 'sepaspp'
            out[f'fusion.aspp_modules.{m[1]}.{m[2]}'] = pending.pop(key)
            continue
        m = re.fullmatch(rf'fuse_layer\.bottleneck\.((?:{_CONV_OR_BN})|(?:{_SEP_CONV}))', key)
        if m:
            out[f'fusion.bottleneck.{m[1]}'] = pending.pop(key)
            continue
        m = re.fullmatch(rf'fuse_layer\.({_CONV_OR_BN})', key)
        if m:
            if m[1] == 'conv.weight' and pending[key].shape[2:] != (1, 1):
                raise ConversionError(
                    f'{where}{key} has a {tuple(pending[key].shape[2:])} kernel; our '
                    "DAFormerHead's fusion_type='conv' is a 1x1 ConvModule")
            fusion = fusion or 'conv'
            out[f'fusion.{m[1]}'] = pending.pop(key)
            continue
        m = re.fullmatch(rf'conv_seg\.{_PARAM}', key)
        if m:
            out[key] = pending.pop(key)
    seg = out.get('conv_seg.weight')
    embed = [out[f'embed_layers.{i}.weight'] for i in range(len(levels))
             if f'embed_layers.{i}.weight' in out]
    info = dict(fusion=fusion, in_index=levels,
                num_outputs=None if seg is None else int(seg.shape[0]),
                channels=None if seg is None else int(seg.shape[1]),
                embed_dims=[int(w.shape[0]) for w in embed],
                in_channels=[int(w.shape[1]) for w in embed])
    return out, info


def convert_network(weights, where=''):
    """Rename one network of theirs (keys ``backbone.*``, ``decode_head.*``) to ours.

    Returns ``(state_dict, info)``; ``info`` has ``backbone`` and ``head`` (``type``: 'DAFormerHead'
    or 'HRDAHead', and the sub-heads' info). Raises listing every key no rule maps.
    """
    pending = OrderedDict(weights)
    backbone = take(pending, 'backbone.')
    head = take(pending, 'decode_head.')
    if not backbone or not head:
        lacking = 'backbone.*' if not backbone else 'decode_head.*'
        raise ConversionError(f'no {where}{lacking} keys (top-level names: '
                              f'{top_names(weights)})')
    out = OrderedDict()
    mit, mit_info = convert_mit(backbone, f'{where}backbone.')
    out.update((f'backbone.{k}', v) for k, v in mit.items())
    if any(k.startswith(('head.', 'scale_attention.')) for k in head):
        head_info = dict(type='HRDAHead')
        for sub in ('head', 'scale_attention'):
            sub_pending = take(head, f'{sub}.')
            if not sub_pending:
                continue  # HRDA with a fixed attention has no scale_attention
            converted, head_info[sub] = convert_daformer_head(
                sub_pending, f'{where}decode_head.{sub}.')
            out.update((f'decode_head.{sub}.{k}', v) for k, v in converted.items())
            head.update((f'{sub}.{k}', v) for k, v in sub_pending.items())  # leftovers
    else:
        converted, head_info = convert_daformer_head(head, f'{where}decode_head.')
        head_info = dict(type='DAFormerHead', head=head_info)
        out.update((f'decode_head.{k}', v) for k, v in converted.items())
    left = [f'{where}backbone.{k}' for k in backbone] + [f'{where}decode_head.{k}' for k in head] \
        + [f'{where}{k}' for k in pending]
    if left:
        raise ConversionError(
            f'{len(left)} keys have no counterpart in our MixVisionTransformer / DAFormerHead / '
            f'HRDAHead: {left[:20]}{" ..." if len(left) > 20 else ""}; leave them out on purpose '
            'with --drop PREFIX')
    for sub in ('head', 'scale_attention'):
        if sub in head_info and head_info[sub]['fusion'] is None:
            name = f'decode_head.{sub}' if head_info['type'] == 'HRDAHead' else 'decode_head'
            raise ConversionError(f'{where}{name}: no fuse_layer (sep-ASPP or 1x1 conv) found')
    return out, dict(backbone=mit_info, head=head_info, tensors_in=len(weights))


def take(pending, prefix):
    """Pop the keys under ``prefix`` from ``pending``; return them without it."""
    keys = [k for k in pending if k.startswith(prefix)]
    return OrderedDict((k[len(prefix):], pending.pop(k)) for k in keys)


# -- writing ---------------------------------------------------------------------------------------
def dataset_meta(meta):
    """mmseg 1.x ``dataset_meta`` from their meta's ``CLASSES`` / ``PALETTE``, if present."""
    if not meta.get('CLASSES'):
        return None
    out = dict(classes=tuple(meta['CLASSES']))
    if meta.get('PALETTE') is not None:
        out['palette'] = [[int(c) for c in colour] for colour in meta['PALETTE']]
    return out


def convert_checkpoint(src, network=None, fmt='mmseg', drop=(), iters=None):
    """Convert in memory: returns ``(checkpoint, info)``.

    ``checkpoint`` is ``{'state_dict', 'meta'}`` in the layout of ``fmt``; ``info`` says what was
    converted (``layout``, ``network``, ``networks`` info, ``dropped``, ``unselected``,
    ``tensors``).
    """
    if fmt not in ('mmseg', 'uda'):
        raise ValueError(f"format must be 'mmseg' or 'uda', got {fmt!r}")
    if fmt == 'uda' and network is not None:
        raise ValueError('--format uda writes both networks (student and teacher); drop --network')
    if network not in (None, 'student', 'teacher'):
        raise ValueError(f"network must be 'student' or 'teacher', got {network!r}")
    state_dict, meta = load_checkpoint(src)
    split = split_networks(state_dict, src, drop)
    networks = split['networks']
    if split['layout'] == 'plain' and (network == 'teacher' or fmt == 'uda'):
        raise ConversionError(
            f'{src} is a plain (non-UDA) checkpoint: one network, no EMA teacher; convert it with '
            '--format mmseg (a UDA config loads such a checkpoint into student and teacher)')
    wanted = ['student', 'teacher'] if fmt == 'uda' else [network or 'student']
    for name in wanted:
        if name not in networks:
            raise ConversionError(
                f'{src}: no {name} ({NETWORK_PREFIXES[name]}*) in this UDA checkpoint (top-level '
                f'names: {top_names(state_dict)})')
    converted, infos = OrderedDict(), OrderedDict()
    for name in wanted:
        prefix = NETWORK_PREFIXES[name] if split['layout'] == 'uda' else ''
        try:
            converted[name], infos[name] = convert_network(networks[name], prefix)
        except ConversionError as e:
            raise ConversionError(f'{src}: {e}') from None

    info = dict(layout=split['layout'], dropped=split['dropped'], networks=infos,
                unselected={NETWORK_PREFIXES[n]: len(w) for n, w in networks.items()
                            if n not in wanted})
    src_iter = meta.get('iter')
    out_meta = dict(converted_from=dict(checkpoint=str(src), layout=split['layout'],
                                        networks=wanted, iter=src_iter))
    if dataset_meta(meta):
        out_meta['dataset_meta'] = dataset_meta(meta)
    if fmt == 'mmseg':
        info['network'] = wanted[0]
        out = converted[wanted[0]]
    else:
        steps = iters if iters is not None else src_iter
        if steps is None:
            raise ConversionError(f'{src}: its meta has no iteration count; give --iter N (the '
                                  'iterations its teacher was averaged over) so that the EMA ramp '
                                  'of the warm-started teacher continues at its final momentum')
        info['network'] = 'student+teacher'
        out = OrderedDict((f'student.{k}', v) for k, v in converted['student'].items())
        out.update((f'teacher.module.{k}', v) for k, v in converted['teacher'].items())
        out['teacher.steps'] = torch.tensor(int(steps), dtype=torch.long)
        # a new run: its draws are seeded afresh and its iterations count from zero
        out['draw_seed'] = torch.tensor(-1, dtype=torch.long)
        out['steps_done'] = torch.tensor(0, dtype=torch.long)
        info['teacher_steps'] = int(steps)
    info['tensors'] = len(out)
    return dict(state_dict=out, meta=out_meta), info


def network_config(cfg):
    """``(segmentor config, key path)`` of a config: ``model.segmentor`` of a UDA config, else
    ``model``."""
    if isinstance(cfg.get('model'), dict) and 'segmentor' in cfg.model:
        return cfg.model.segmentor, 'model.segmentor'
    return cfg.model, 'model'


def config_for(config, fmt, cfg_options=None):
    """CONFIG with the ``SegFormerMiT`` backbone and no ImageNet initialisation (a Config)."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    seg, path = network_config(cfg)
    if fmt == 'uda' and path == 'model':
        raise ConversionError(f'config {config}: a plain mmseg config; --format uda needs a UDA '
                              'config (model.segmentor), --format mmseg works with both')
    backbone = seg.get('backbone') or {}
    if backbone.get('type') not in ('MixVisionTransformer', BACKBONE_TYPE):
        raise ConversionError(f'config {config}: {path}.backbone.type is '
                              f'{backbone.get("type")!r}; the converted backbone is a '
                              'MixVisionTransformer (e.g. configs/_base_/models/'
                              'daformer_sepaspp_mitb5.py)')
    backbone['type'] = BACKBONE_TYPE
    backbone['init_cfg'] = None  # the checkpoint holds every weight
    seg['pretrained'] = None
    imports = dict(cfg.get('custom_imports') or dict(imports=[], allow_failed_imports=False))
    imports['imports'] = list(imports.get('imports') or [])
    for name in ('mmseg_uda', BACKBONE_MODULE):
        if name not in imports['imports']:
            imports['imports'].append(name)
    cfg.custom_imports = imports
    return cfg


def check_against_config(state_dict, cfg, config, holds=''):
    """Build the network of ``cfg`` and raise unless ``state_dict`` (one network, mmseg keys)
    has exactly its keys and shapes; ``holds`` (what the checkpoint holds) ends the message."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    seg, path = network_config(cfg)
    seg = copy.deepcopy(seg)
    seg.pop('data_preprocessor', None)
    ours = MODELS.build(seg).state_dict()
    missing = [k for k in ours if k not in state_dict]
    unexpected = [k for k in state_dict if k not in ours]
    mismatched = [f'{k}: converted {tuple(state_dict[k].shape)}, {path} {tuple(ours[k].shape)}'
                  for k in ours if k in state_dict and state_dict[k].shape != ours[k].shape]
    problems = []
    if missing:
        problems.append(f'{len(missing)} tensors of the network missing: {missing[:8]}')
    if unexpected:
        problems.append(f'{len(unexpected)} converted tensors the network lacks: '
                        f'{unexpected[:8]}')
    if mismatched:
        problems.append(f'{len(mismatched)} shapes differ: {mismatched[:8]}')
    if problems:
        raise ConversionError(f'config {config}: the converted weights do not fit {path} '
                              f'({seg.get("type")}): ' + '; '.join(problems)
                              + (f'. The checkpoint holds {holds}' if holds else ''))
    return len(ours)


def save(checkpoint, dst):
    """Write ``dst`` whole, then rename (no half-written checkpoint under the name)."""
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(checkpoint, dst + '.tmp')
    os.replace(dst + '.tmp', dst)


def describe(info):
    """The summary lines printed after a conversion."""
    lines = []
    for name, net in info['networks'].items():
        bb, head = net['backbone'], net['head']
        heads = ', '.join(
            f'{sub}: fusion {h["fusion"]}, {h["num_outputs"]} outputs, embed {h["embed_dims"]}'
            for sub, h in head.items() if sub != 'type')
        lines.append(f'{name}: backbone MiT ({bb["stages"]} stages, depths {bb["depths"]}, '
                     f'dims {bb["dims"]}), {head["type"]} ({heads}); from {net["tensors_in"]} '
                     'tensors (attn.q and attn.kv merged)')
    dropped = ', '.join(f'{p}* ({n} tensors)' for p, n in info['dropped'].items())
    unselected = ', '.join(f'{p}* ({n} tensors)' for p, n in info['unselected'].items())
    lines.append(f'{info["layout"]} checkpoint; dropped: {dropped or "nothing"}; not selected: '
                 f'{unselected or "nothing"}')
    return lines


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a DAFormer / HRDA / MIC checkpoint (mmseg 0.16 forks) to mmseg 1.x '
        'keys for the MixVisionTransformer + DAFormerHead / HRDAHead of mmseg_uda')
    parser.add_argument('src', help='their checkpoint (e.g. the released latest.pth)')
    parser.add_argument('dst', help='the converted checkpoint to write')
    parser.add_argument('--network', choices=sorted(NETWORK_PREFIXES),
                        help='--format mmseg: which network (default: student, the network the '
                        'papers evaluate)')
    parser.add_argument('--format', default='mmseg', choices=['mmseg', 'uda'],
                        help='mmseg: plain backbone.* / decode_head.* checkpoint (tools/test.py); '
                        'uda: student.* and teacher.module.* for a UDA run (load_from)')
    parser.add_argument('--config', help='check the weights against the network of this config '
                        'and write it, with the SegFormerMiT backbone, next to DST (.py)')
    parser.add_argument('--iter', type=int, help="--format uda: the teacher's update count "
                        "(default: the checkpoint meta's iter)")
    parser.add_argument('--drop', nargs='+', default=[], metavar='PREFIX',
                        help='leave out the keys under these prefixes (after imnet_model.*)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.src):
        raise FileNotFoundError(f'checkpoint {args.src} does not exist')
    if args.config and not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    checkpoint, info = convert_checkpoint(args.src, args.network, args.format, args.drop,
                                          args.iter)
    cfg = None
    if args.config:
        cfg = config_for(args.config, args.format)
        state = checkpoint['state_dict']
        for name, prefix in (('student', 'student.'), ('teacher', 'teacher.module.')) \
                if args.format == 'uda' else (('', ''), ):
            check_against_config(OrderedDict((k[len(prefix):], v) for k, v in state.items()
                                             if k.startswith(prefix)), cfg, args.config,
                                 describe(info)[0].split(': ', 1)[1])
    save(checkpoint, args.dst)
    print(f'converted the {info["network"]} of {args.src}: {info["tensors"]} tensors -> {args.dst} '
          f'(--format {args.format})')
    for line in describe(info):
        print('  ' + line)
    if cfg is not None:
        cfg_path = osp.splitext(args.dst)[0] + '.py'
        cfg.dump(cfg_path)
        print(f'config (backbone {BACKBONE_TYPE}): {cfg_path}; the weights fit its network')
    else:
        print(f'evaluate with the backbone type {BACKBONE_TYPE} (SegFormer\'s LayerNorm eps), e.g. '
              f'--cfg-options model.segmentor.backbone.type={BACKBONE_TYPE} (UDA config) or '
              f'model.backbone.type={BACKBONE_TYPE} (plain config), or convert with --config')
    return checkpoint, info


if __name__ == '__main__':
    main()
