from mmseg.models.backbones import MixVisionTransformer
from mmseg.registry import MODELS
from torch import nn


@MODELS.register_module()
class SegFormerMiT(MixVisionTransformer):
    """mmseg's ``MixVisionTransformer`` with the LayerNorm eps of SegFormer's original code.

    SegFormer's ``mix_transformer.py`` (`Xie et al., NeurIPS 2021
    <https://arxiv.org/abs/2105.15203>`_), which DAFormer, HRDA and MIC train with, builds the
    patch-embedding norms and the norms after the spatial-reduction convs as ``nn.LayerNorm(dim)``
    (eps 1e-5) and only the block and stage norms with eps 1e-6; mmseg's ``MixVisionTransformer``
    builds all of them from ``norm_cfg`` (eps 1e-6). With this class a network converted by
    ``tools/model_converters/daformer2mmseg.py`` computes what it computed in that code. The keys
    and shapes are mmseg's, so a checkpoint loads into either class.

    Args:
        patch_norm_eps (float): eps of the patch-embedding LayerNorms (``layers.i.0.norm``).
            Default: 1e-5.
        sr_norm_eps (float): eps of the LayerNorms after the spatial-reduction convs
            (``layers.i.1.j.attn.norm``, stages with ``sr_ratio > 1``). Default: 1e-5.
        **kwargs: Arguments of ``MixVisionTransformer`` (its ``norm_cfg``, eps 1e-6, sets the
            other norms).
    """

    def __init__(self, patch_norm_eps=1e-5, sr_norm_eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.patch_norm_eps = patch_norm_eps
        self.sr_norm_eps = sr_norm_eps
        for i, (patch_embed, blocks, _) in enumerate(self.layers):
            set_eps(patch_embed.norm, patch_norm_eps, f'layers.{i}.0.norm')
            for j, block in enumerate(blocks):
                if block.attn.sr_ratio > 1:
                    set_eps(block.attn.norm, sr_norm_eps, f'layers.{i}.1.{j}.attn.norm')


def set_eps(norm, eps, name):
    """Set the eps of a LayerNorm; raise naming it if it is another kind of layer."""
    if not isinstance(norm, nn.LayerNorm):
        raise TypeError(f'SegFormerMiT: {name} is {type(norm).__name__}, not a LayerNorm; '
                        "SegFormerMiT needs norm_cfg=dict(type='LN', ...)")
    norm.eps = eps
