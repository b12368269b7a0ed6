"""Out-of-range method keys are refused when the model is built, naming the key, its range and the
value (utils/checks.py), for every segmentor and the loss modules it configures."""
import re

import pytest
from test_clda import build_clda
from test_confeti import build_confeti
from test_dacs import build_dacs
from test_rccr import build_rccr
from test_sdca import build_sdca
from test_t2sda import build_t2sda

BUILDERS = dict(DACS=build_dacs, CLDA=build_clda, RCCR=build_rccr, SDCA=build_sdca,
                T2SDA=build_t2sda, CONFETI=build_confeti)
# (segmentor, key below `model`, bad value, the range the message states)
CASES = [
    ('DACS', 'pseudo_threshold', 2.0, 'in (0, 1]'),
    ('DACS', 'pseudo_threshold', 0.0, 'in (0, 1]'),
    ('DACS', 'pseudo_threshold', float('nan'), 'in (0, 1]'),
    ('DACS', 'pseudo_threshold', '0.9', 'in (0, 1]'),
    ('DACS', 'pseudo_weight_scope', 'pixel', "'batch' or 'image'"),
    ('DACS', 'pseudo_weight_ignore_top', -1, 'an integer >= 0'),
    ('DACS', 'pseudo_weight_ignore_bottom', 1.5, 'an integer >= 0'),
    ('DACS', 'mix_scope', 'pixel', "'image' or 'batch'"),
    ('DACS', 'mix_loss_weight', -1.0, '>= 0'),
    ('DACS', 'strong_aug.color_jitter_prob', 1.2, 'in [0, 1]'),
    ('DACS', 'strong_aug.color_jitter_strength', 0.8, 'in [0, 0.5]'),
    ('DACS', 'strong_aug.blur_sigma', (1.15, 0.15), 'a (low, high) pair'),
    ('DACS', 'imnet_feature_dist.lambda_', -0.005, '>= 0'),
    ('DACS', 'ema.alpha', 1.0, 'in [0, 1)'),
    ('DACS', 'ema.buffers', 'mean', "'keep', 'copy' or 'ema'"),
    ('DACS', 'contrast.tau', 0.0, '> 0'),
    ('CLDA', 'ema.interval', 0, 'an integer >= 1'),
    ('CLDA', 'target_weight', -0.1, '>= 0'),
    ('CLDA', 'tau0', 1.5, 'in (0, 1]'),
    ('CLDA', 'top', 0.0, 'in (0, 1]'),
    ('CLDA', 'pseudo_scales', (0.5, 0.0), 'a non-empty list of values > 0'),
    ('CLDA', 'pseudo_scales', (), 'a non-empty list of values > 0'),
    ('CLDA', 'projection_warmup', -5, 'an integer >= 0'),
    ('CLDA', 'augment.flip_prob', 2.0, 'in [0, 1]'),
    ('CLDA', 'augment.scale', (2.5, 0.4), 'a (low, high) pair'),
    ('CLDA', 'contrast.tau', -0.07, '> 0'),
    ('CLDA', 'contrast.anchors_per_class', 0, 'an integer >= 1'),
    ('CLDA', 'label_expansion.radius_quantile', 1.5, 'in (0, 1]'),
    ('RCCR', 'contrast_weight', -0.01, '>= 0'),
    ('RCCR', 'ramp_iters', 0, 'an integer >= 1'),
    ('RCCR', 'ramp_power', 0.0, '> 0'),
    ('RCCR', 'cut_area', 1.5, 'in (0, 1]'),
    ('RCCR', 'region_contrast.tau', 0.0, '> 0'),
    ('RCCR', 'region_contrast.confidence', 1.5, 'in [0, 1]'),
    ('RCCR', 'region_contrast.memory_batches', -1, 'an integer >= 0'),
    ('SDCA', 'lovasz_weight', -0.75, '>= 0'),
    ('SDCA', 'target_threshold', 1.1, 'in [0, 1]'),
    ('SDCA', 'feature_contrast.tau', 0.0, '> 0'),
    ('SDCA', 'output_contrast.loss_weight', -1.0, '>= 0'),
    ('T2SDA', 'pull_weight', -0.1, '>= 0'),
    ('T2SDA', 'pull.tau', 0.0, '> 0'),
    ('T2SDA', 'pull.num_queries', 0, 'an integer >= 1'),
    ('T2SDA', 'pull.unreliable_ratio', 1.5, 'in [0, 1]'),
    ('T2SDA', 'class_weighting.beta', -0.5, '>= 0'),
    ('T2SDA', 'query_image', 'target', "'pseudo_target' or 'source'"),
    ('T2SDA', 'pseudo_threshold', 2.0, 'in (0, 1]'),
    ('CONFETI', 'pcl.tau', 0.0, '> 0'),
    ('CONFETI', 'pcl.weight', -0.5, '>= 0'),
    ('CONFETI', 'pcl.num_samples', 0, 'an integer >= 1'),
    ('CONFETI', 'prototypes.momentum', 1.5, 'in [0, 1]'),
    ('CONFETI', 'prototypes.top_n', 0, 'an integer >= 1'),
    ('CONFETI', 'regularizer.sign', 2, '1 or -1'),
    ('CONFETI', 'cam_loss.weight', -1.0, '>= 0'),
    ('CONFETI', 'consistency.weight', -0.1, '>= 0'),
    ('CONFETI', 'style.nce_tau', 0.0, '> 0'),
    ('CONFETI', 'pseudo_threshold', 2.0, 'in (0, 1]'),
]
# sub-dicts the builders already set: a bad key is merged into them
BASE = dict(CLDA=dict(contrast=dict(anchors_per_class=50, memory_size=20, enqueue_per_class=5),
                      ema=dict(alpha=0.0, buffers='copy', interval=2)),
            RCCR=dict(region_contrast=dict(confidence=0.0)),
            SDCA=dict(feature_contrast=dict(tau=1.0), output_contrast=dict(tau=1.0)),
            T2SDA=dict(pull=dict(num_queries=8, num_negatives=32)),
            CONFETI=dict(pcl=dict(start_iter=-1, num_samples=64),
                         prototypes=dict(top_n=4, cam_start_iter=0),
                         style=dict(type='CUT', generator=dict(type='ResnetGenerator', ngf=4,
                                                               num_blocks=5),
                                    discriminator=dict(type='PatchDiscriminator', ndf=4),
                                    patch_mlp=dict(type='PatchSampleMLP', mlp_dim=8),
                                    num_patches=16)))


def kwargs_for(method, key, value):
    if '.' not in key:
        return {key: value}
    outer, inner = key.split('.')
    base = dict(BASE.get(method, {}).get(outer, {}))
    if method == 'DACS' and outer == 'contrast':
        return dict(contrast={inner: value}, projection_head=dict(
            type='ProjectionHead', in_channels=64, out_channels=16))
    return {outer: {**base, inner: value}}


@pytest.mark.parametrize('method,key,value,expected', CASES,
                         ids=[f'{m}-{k}-{v!r}' for m, k, v, _ in CASES])
def test_out_of_range_keys_are_refused_at_build_time(method, key, value, expected):
    message = f'{method}: model.{key} must be {expected}'
    with pytest.raises(ValueError, match=re.escape(message) + '.*, got ' + re.escape(repr(value))):
        BUILDERS[method](**kwargs_for(method, key, value))


def test_the_papers_values_and_edges_are_accepted():
    from mmseg_uda.models.utils.checks import check_range
    build_dacs(pseudo_threshold=1.0, mix_loss_weight=0.0,
               strong_aug=dict(color_jitter_prob=0.0, blur_sigma=(0.15, 0.15)))
    build_rccr(cut_area=(0.25, 1.0), region_contrast=dict(confidence=None))
    check_range('X', 'ramp_iters', 250e3, low=1, integer=True)  # an integral float is a count
