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


# -- float32 similarities under AMP ----------------------------------------------------------------
def amp_equals_float32(fn, *tensors, rtol=1e-6, atol=1e-6):
    """``fn(*tensors)`` inside bf16 autocast against the same values in float32 without autocast,
    once with the floating ``tensors`` in float32 and once in bfloat16 (as AMP's layers output
    them): the output is float32, and it and the gradients of the floating inputs equal the
    float32 ones to ``rtol``/``atol`` (bf16 grads: the float32 ones rounded). A similarity computed
    in bf16 (a matmul that autocast lowers, a bf16 input not cast up) is off by ~1e-3."""
    for dtype in (torch.float32, torch.bfloat16):
        values = [t.to(dtype) if t.is_floating_point() else t for t in tensors]
        results = []
        for amp in (False, True):
            args = [(v if amp else v.float()).clone().requires_grad_() if v.is_floating_point()
                    else v for v in values]
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
                out = fn(*args)
            floats = [a for a in args if a.is_floating_point()]
            grads = torch.autograd.grad(out.sum(), floats, allow_unused=True)
            results.append((out, [None if g is None else g.to(a.dtype).float()
                                  for g, a in zip(grads, values if amp else floats)]))
        (ref, ref_grads), (out, grads) = results
        assert out.dtype == torch.float32, (dtype, out.dtype)
        torch.testing.assert_close(out, ref, rtol=rtol, atol=atol)
        assert [g is None for g in grads] == [g is None for g in ref_grads]
        assert any(g is not None for g in grads)
        for g, r in zip(grads, ref_grads):
            if g is not None:
                torch.testing.assert_close(g, r.to(dtype).float(), rtol=rtol, atol=atol)


def unit_rows(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, d, generator=g), dim=1)


def test_supervised_info_nce_similarities_are_float32_under_autocast():
    """The anchor-key logits are float32 under bf16 autocast: loss and gradients equal float32's."""
    labels = torch.arange(20) % 3
    amp_equals_float32(lambda a, k: supervised_info_nce(a, labels[:6], k, labels, 0.07),
                       unit_rows(6, 16, 0), unit_rows(20, 16, 1))


def test_negative_logsumexp_is_float32_under_autocast():
    """The chunked, checkpointed log Σ e^{a·k/τ} (with exclusions) is float32 under bf16 autocast:
    values and gradients (recomputed in the backward pass) equal float32's."""
    from mmseg_uda.models.losses import negative_logsumexp
    ids = torch.arange(20) % 4
    amp_equals_float32(lambda a, k: negative_logsumexp(a, k, 0.1, [(ids[:6], ids)], chunk_size=7),
                       unit_rows(6, 16, 2), unit_rows(20, 16, 3))
