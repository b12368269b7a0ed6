"""Losses and statistics compute in at least float32: bf16 (AMP) inputs are upcast, float64 inputs
keep float64 (rounding them to float32 made 2 processes differ from 1 by float32 noise that Adam
amplified, tests/test_ddp_exactness.py's float64 CONFETI case)."""
import pytest
import torch

from mmseg_uda.models.losses.contrastive import supervised_info_nce
from mmseg_uda.models.losses.prototype_contrast import (pixel_prototype_contrast,
                                                        semantic_consistency_loss)
from mmseg_uda.models.style.gan_loss import lsgan_d_loss, lsgan_g_loss
from mmseg_uda.models.style.patch_nce import patch_nce_loss
from mmseg_uda.models.utils.precision import upcast
from mmseg_uda.models.utils.prototypes import class_prototypes


def test_upcast():
    x = torch.ones(2)
    assert upcast(x) is x and upcast(x.double()).dtype == torch.float64
    assert upcast(x.bfloat16()).dtype == torch.float32 and upcast(x.half()).dtype == torch.float32
    assert upcast(x.bool()).dtype == torch.float32


def losses(dtype):
    """Each loss / statistic on the same inputs cast to ``dtype`` (and the same pixel draws)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    f = lambda *s: torch.randn(*s, generator=g).to(dtype)  # noqa: E731
    feats, protos = f(2, 8, 4, 4), f(3, 8)
    labels = torch.randint(0, 3, (2, 4, 4), generator=g)
    anchors, keys = f(6, 8), f(10, 8)
    return {
        'supervised_info_nce': supervised_info_nce(
            anchors, labels.flatten()[:6], keys, labels.flatten()[:10], 0.1),
        'pixel_prototype_contrast': pixel_prototype_contrast(feats, labels, protos, 0.1, 16),
        'semantic_consistency_loss': semantic_consistency_loss(feats, f(2, 8, 4, 4), protos),
        'patch_nce_loss': patch_nce_loss(f(2, 5, 8), f(2, 5, 8)),
        'lsgan_g_loss': lsgan_g_loss(f(2, 1, 3, 3)),
        'lsgan_d_loss': lsgan_d_loss(f(2, 1, 3, 3), f(2, 1, 3, 3)),
        'class_prototypes': class_prototypes(anchors, labels.flatten()[:6], 3, all_ranks=False)[0],
    }


@pytest.mark.parametrize('dtype,expected', [(torch.float64, torch.float64),
                                            (torch.float32, torch.float32),
                                            (torch.bfloat16, torch.float32)])
def test_losses_keep_float64_and_upcast_half(dtype, expected):
    out = losses(dtype)
    assert {k: v.dtype for k, v in out.items()} == {k: expected for k in out}
    if dtype == torch.float64:  # and float64 agrees with float32 to float32 precision
        ref = losses(torch.float32)
        for k, v in out.items():
            torch.testing.assert_close(v.float(), ref[k], rtol=1e-5, atol=1e-6)
