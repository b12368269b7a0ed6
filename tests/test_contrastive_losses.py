"""Contrastive losses against their equations on hand-checkable tensors."""
import math

import torch

from mmseg_uda.models.losses import supervised_info_nce


def test_single_pair_value_and_gradient():
    """One anchor, one positive, one negative: L = −log(e^{a/τ} / (e^{a/τ} + e^{b/τ}))."""
    v = torch.tensor([[1., 0.]], requires_grad=True)
    keys = torch.tensor([[0.6, 0.8], [0., 1.]])  # positive (v·k = 0.6), negative (v·k = 0)
    tau = 0.5
    loss = supervised_info_nce(v, torch.tensor([0]), keys, torch.tensor([0, 1]), tau)
    a, b = 0.6 / tau, 0.0 / tau
    assert math.isclose(loss.item(), -math.log(math.exp(a) / (math.exp(a) + math.exp(b))),
                        rel_tol=1e-6)
    loss.backward()
    # dL/dv = −(1 − p⁺) k⁺/τ + (1 − p⁺) k⁻/τ with p⁺ the softmax weight of the positive
    p = math.exp(a) / (math.exp(a) + math.exp(b))
    expected = (-(1 - p) * keys[0] + (1 - p) * keys[1]) / tau
    torch.testing.assert_close(v.grad[0], expected)


def test_each_positive_has_its_own_denominator():
    """Two positives: the mean of two pair losses, each with one positive + all negatives."""
    v = torch.tensor([[1., 0.]])
    keys = torch.tensor([[1., 0.], [0., 1.], [-1., 0.]])
    labels = torch.tensor([3, 3, 7])
    tau = 1.0
    loss = supervised_info_nce(v, torch.tensor([3]), keys, labels, tau)
    pair = lambda l: -l + math.log(math.exp(l) + math.exp(-1.))  # noqa: E731 (negative: v·k = −1)
    assert math.isclose(loss.item(), (pair(1.) + pair(0.)) / 2, rel_tol=1e-6)


def test_anchor_without_positive_is_skipped_and_no_negatives():
    v = torch.tensor([[1., 0.], [0., 1.]], requires_grad=True)
    keys = torch.tensor([[1., 0.]])
    # anchor 1 (class 5) has no positive: only anchor 0 counts, with no negative: L = 0
    loss = supervised_info_nce(v, torch.tensor([0, 5]), keys, torch.tensor([0]), 0.07)
    assert loss.item() == 0.0
    # nobody has a positive: 0 and still differentiable
    loss = supervised_info_nce(v, torch.tensor([4, 5]), keys, torch.tensor([0]), 0.07)
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(v.grad, torch.zeros_like(v))


def test_empty_keys_and_amp_are_finite():
    v = torch.nn.functional.normalize(torch.randn(6, 8), dim=1).requires_grad_()
    loss = supervised_info_nce(v, torch.zeros(6, dtype=torch.long), torch.zeros(0, 8),
                               torch.zeros(0, dtype=torch.long), 0.07)
    assert loss.item() == 0.0
    keys = torch.nn.functional.normalize(torch.randn(20, 8), dim=1)
    labels = torch.arange(20) % 3
    ref = supervised_info_nce(v, labels[:6], keys, labels, 0.07)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        amp = supervised_info_nce(v.bfloat16(), labels[:6], keys.bfloat16(), labels, 0.07)
    assert amp.dtype == torch.float32 and torch.isfinite(amp)
    torch.testing.assert_close(amp, ref, rtol=0.05, atol=0.05)
