"""Export the predicting network of a UDA checkpoint as a plain mmseg config + checkpoint.

``python tools/export.py CONFIG CHECKPOINT OUT [--network student|teacher] [--name NAME]``

writes ``OUT/NAME.py`` and ``OUT/NAME.pth``: the inner segmentor (``model.segmentor``) of the UDA
config as ``model``, with a plain ``SegDataPreProcessor``, the test pipeline / dataloader / evaluator
and runtime keys, and the weights of the student or teacher (``model.predict_on`` unless
``--network`` says otherwise) under mmseg's own keys (``backbone.*``, ``decode_head.*``), with the
dataset's classes and palette in ``meta['dataset_meta']``. No optimiser state, no EMA/teacher/student
prefixes, no method heads (projection / CAM branches) unless ``--keep-heads``. The pair loads with
``mmseg.apis.init_model`` / ``inference_model`` / ``MMSegInferencer`` and ``tools/test.py`` as it is.

``custom_imports = ['mmseg_uda']`` is written only when the exported config names a type of this
package (e.g. the ``DLV2Head`` / ``DAFormerHead`` decode heads, the toy dataset, ``UDAIoUMetric``);
loading such a pair then needs ``mmseg_uda`` importable. The tool says which types need it.
"""
import argparse
import copy
import os
import os.path as osp
import sys
from collections import OrderedDict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from any folder

import mmseg_uda  # noqa: E402,F401  (compatibility fixes and registration before mmseg loads)
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import CheckpointLoader  # noqa: E402

PLUGIN = 'mmseg_uda'
NETWORK_PREFIXES = {'student': 'student.', 'teacher': 'teacher.module.'}
# top-level keys of the UDA config carried over unchanged: evaluation and runtime, no training
COPIED_KEYS = ('test_pipeline', 'test_dataloader', 'test_evaluator', 'test_cfg', 'tta_model',
               'tta_pipeline', 'env_cfg', 'default_hooks', 'vis_backends', 'visualizer',
               'log_processor', 'log_level', 'randomness')


def is_uda_config(cfg):
    """Whether ``cfg.model`` wraps an inner segmentor (``model.segmentor``), as UDA configs do."""
    return isinstance(cfg.get('model'), dict) and 'segmentor' in cfg.model


def plugin_types(obj, where=''):
    """``[(where, type name)]`` of the ``type=...`` entries in ``obj`` registered by this package."""
    from mmseg import registry
    registries = [getattr(registry, n) for n in (
        'MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'HOOKS', 'VISUALIZERS', 'VISBACKENDS',
        'DATA_SAMPLERS', 'LOOPS', 'MODEL_WRAPPERS')]
    found = []
    if isinstance(obj, dict):
        t = obj.get('type')
        cls = t if isinstance(t, type) else None
        for reg in registries if isinstance(t, str) else ():
            try:
                cls = reg.get(t)
            except (KeyError, ImportError):
                cls = None
            if cls is not None:
                break
        if cls is not None and cls.__module__.split('.')[0] == PLUGIN:
            found.append((where, cls.__name__))
        for k, v in obj.items():
            found += plugin_types(v, f'{where}.{k}' if where else k)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            found += plugin_types(v, f'{where}.{i}')
    return found


def network_config(cfg):
    """The inner segmentor of a UDA config as a plain mmseg ``model`` dict.

    The data preprocessor becomes ``SegDataPreProcessor`` (``UDADataPreProcessor`` only adds paired
    batches and checks), and ImageNet initialisation is dropped: the exported weights are complete.
    """
    model = copy.deepcopy(cfg.model.segmentor.to_dict() if hasattr(cfg.model.segmentor, 'to_dict')
                          else dict(cfg.model.segmentor))
    pre = model.get('data_preprocessor') or cfg.model.get('data_preprocessor') \
        or cfg.get('data_preprocessor')
    if pre is not None:
        pre = dict(pre)
        if pre.get('type') in ('UDADataPreProcessor', 'SegDataPreProcessor'):
            pre['type'] = 'SegDataPreProcessor'
        model['data_preprocessor'] = pre
    model['pretrained'] = None
    if isinstance(model.get('backbone'), dict):
        model['backbone']['init_cfg'] = None
    return model


def dataset_meta_of(cfg, checkpoint):
    """``classes`` / ``palette`` from the checkpoint's meta, else from the test dataset's class."""
    meta = (checkpoint.get('meta') or {}).get('dataset_meta') or {}
    if not meta.get('classes'):
        from mmseg.registry import DATASETS
        dataset = cfg.test_dataloader.dataset
        cls = DATASETS.get(dataset.type)
        meta = dict(getattr(cls, 'METAINFO', {}), **(dataset.get('metainfo') or {}))
    if not meta.get('classes'):
        raise KeyError('neither the checkpoint meta (dataset_meta) nor the test dataset '
                       f'({cfg.test_dataloader.dataset.type}) names the classes; add '
                       'test_dataloader.dataset.metainfo=dict(classes=..., palette=...)')
    out = dict(classes=tuple(meta['classes']))
    if meta.get('palette') is not None:
        out['palette'] = [list(map(int, c)) for c in meta['palette']]
    return out


def select_weights(state_dict, prefix, network, keys, checkpoint):
    """The tensors of ``state_dict`` under ``prefix`` with the prefix removed, in ``keys`` order
    (the plain network's keys); raises naming the checkpoint when they do not fit."""
    state_dict = OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                             for k, v in state_dict.items())
    weights = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items()
                          if k.startswith(prefix))
    if not weights:
        tops = sorted({k.split('.')[0] for k in state_dict})
        hint = ('it is a plain mmseg checkpoint: use it with its config directly'
                if 'backbone' in tops or 'decode_head' in tops else
                f"it has no {network} (keys start with {tops}); try --network "
                f"{'student' if network == 'teacher' else 'teacher'}")
        raise KeyError(f'checkpoint {checkpoint}: no key starts with {prefix!r}: {hint}')
    missing = [k for k in keys if k not in weights]
    if missing:
        raise KeyError(f'checkpoint {checkpoint}: the {network} lacks {len(missing)} tensors of '
                       f'the network in the config, e.g. {missing[:3]}; export it with the config '
                       'it was trained with')
    return weights


def export_network(config, checkpoint, network=None, keep_heads=False, cfg_options=None):
    """Export in memory: returns ``(cfg, state_dict, meta, info)``.

    ``cfg`` is the plain mmseg :class:`Config`, ``state_dict`` the network's weights (mmseg keys),
    ``meta`` the checkpoint meta (``dataset_meta`` and where the weights come from), ``info`` a dict
    with ``network``, ``heads`` (method heads left out, or kept) and ``plugin_types``.
    """
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    name = config if isinstance(config, str) else cfg.filename
    if not is_uda_config(cfg):
        raise KeyError(f'config {name}: model has no `segmentor`, so it is not a UDA config; a '
                       "plain mmseg config and its checkpoint work with mmseg's tools as they are")
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    from mmseg.registry import MODELS
    network = network or cfg.model.get('predict_on', 'student')
    if network not in NETWORK_PREFIXES:
        raise ValueError(f"network must be 'student' or 'teacher', got {network!r}")
    if network == 'teacher' and 'ema' in cfg.model and cfg.model.ema is None:
        raise ValueError(f'config {name}: model.ema=None, the model has no teacher; '
                         'export --network student')

    model_cfg = network_config(cfg)
    plain = MODELS.build(copy.deepcopy(model_cfg))
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state_dict = ckpt.get('state_dict', ckpt)
    weights = select_weights(state_dict, NETWORK_PREFIXES[network], network,
                             list(plain.state_dict()), checkpoint)
    own = set(plain.state_dict())
    heads = sorted({k.split('.')[0] for k in weights if k not in own})
    plain.load_state_dict(OrderedDict((k, v) for k, v in weights.items() if k in own))
    out_state = plain.state_dict()
    if keep_heads:
        out_state.update((k, v) for k, v in weights.items() if k not in own)

    exported = dict(model=model_cfg, default_scope=cfg.get('default_scope', 'mmseg'))
    for key in COPIED_KEYS:
        if cfg.get(key) is not None:
            exported[key] = copy.deepcopy(cfg[key])
    found = plugin_types(exported)
    if found:
        exported['custom_imports'] = dict(imports=[PLUGIN], allow_failed_imports=False)
        if cfg.get('model_wrapper_cfg') is not None:  # distributed testing on CPU (gloo)
            exported['model_wrapper_cfg'] = copy.deepcopy(cfg.model_wrapper_cfg)
    exported['load_from'] = None
    exported['resume'] = False
    out_cfg = Config(exported)

    meta = dict(dataset_meta=dataset_meta_of(cfg, ckpt),
                exported_from=dict(config=str(name), checkpoint=str(checkpoint), network=network,
                                   iter=int((ckpt.get('meta') or {}).get('iter', -1))))
    info = dict(network=network, heads=heads, heads_kept=keep_heads, plugin_types=found)
    return out_cfg, out_state, meta, info


def save_export(cfg, state_dict, meta, out_dir, name):
    """Write ``out_dir/name.py`` and ``out_dir/name.pth`` (each written whole, then renamed)."""
    os.makedirs(out_dir, exist_ok=True)
    cfg_path, ckpt_path = osp.join(out_dir, f'{name}.py'), osp.join(out_dir, f'{name}.pth')
    tmp = osp.join(out_dir, f'.{name}.tmp.py')  # Config.dump picks the format by the suffix
    cfg.dump(tmp)
    os.replace(tmp, cfg_path)
    torch.save(dict(meta=meta, state_dict=state_dict), ckpt_path + '.tmp')
    os.replace(ckpt_path + '.tmp', ckpt_path)
    return cfg_path, ckpt_path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Export the predicting network of a UDA checkpoint as a plain mmseg config + '
        'checkpoint (for mmseg.apis, tools/test.py, MMSegInferencer, deployment tools)')
    parser.add_argument('config', help='the UDA config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='the UDA checkpoint (e.g. work_dirs/X/iter_40000.pth)')
    parser.add_argument('out', help='output folder for NAME.py and NAME.pth')
    parser.add_argument('--network', choices=sorted(NETWORK_PREFIXES),
                        help="network to export (default: the config's model.predict_on)")
    parser.add_argument('--name', help='file name stem (default: <config name>_<network>)')
    parser.add_argument('--keep-heads', action='store_true',
                        help="also keep the method's extra heads (projection / CAM) in the "
                        'checkpoint; mmseg loads the network and reports them as unused keys')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override keys of the UDA config, e.g. '
                        'test_dataloader.dataset.data_root=data/cityscapes')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg, state_dict, meta, info = export_network(args.config, args.checkpoint, args.network,
                                                 args.keep_heads, args.cfg_options)
    name = args.name or f'{osp.splitext(osp.basename(args.config))[0]}_{info["network"]}'
    cfg_path, ckpt_path = save_export(cfg, state_dict, meta, args.out, name)
    print(f'exported the {info["network"]} of {args.checkpoint}: {cfg_path}, {ckpt_path} '
          f'({len(state_dict)} tensors)')
    if info['heads']:
        print(f"method heads {'kept' if args.keep_heads else 'left out'}: {info['heads']}")
    if info['plugin_types']:
        types = sorted({f'{t} ({w.split(".")[0]})' for w, t in info['plugin_types']})
        print(f'custom_imports=[{PLUGIN!r}]: loading the export needs {PLUGIN} importable for '
              f'{", ".join(types)}')
        if not any(w.split('.')[0] == 'model' for w, _ in info['plugin_types']):
            print('the network itself is plain mmseg: replace the other types to drop the import')


if __name__ == '__main__':
    main()
