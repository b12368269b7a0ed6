"""DomainContrast (CLDA Eq. 2–3, 5–6 with memories) on hand-checkable embeddings."""
import math

import torch

from mmseg_uda.models.losses import DomainContrast

E1, E2 = [1., 0.], [0., 1.]


def grid(rows):
    """(1, D, 1, N) embeddings from N rows: one feature cell per label pixel (scale 1)."""
    return torch.tensor(rows).t()[None, :, None, :].clone().requires_grad_(True)


def labels(values):
    return torch.tensor(values)[None, None, :]


def pair_loss(pos, negs, tau):
    """−log(e^{pos/τ} / (e^{pos/τ} + Σ e^{neg/τ})) of one anchor and one positive."""
    return -pos / tau + math.log(math.exp(pos / tau) + sum(math.exp(n / tau) for n in negs))


def build(**kwargs):
    return DomainContrast(2, dim=2, **dict(dict(weight=0.5, tau=1.0), **kwargs))


def counts(loss_fn):
    return {name: getattr(loss_fn, name).count.tolist()
            for name in ('source_pixels', 'source_protos', 'target_protos')}


def step(loss_fn, emb_t, lab_t, omega, emb_s, lab_s):
    """One CLDA iteration of the contrast: target terms, source terms (L_cross reads this batch's
    target prototypes), then the memory update; the losses of both."""
    tgt, tgt_update = loss_fn.target_terms(emb_t, lab_t, lab_t, omega)
    src, src_update = loss_fn.source_terms(emb_s, lab_s, target_update=tgt_update)
    loss_fn.update_memories(tgt_update, src_update)
    return {**tgt, **src}


def test_target_terms_use_omega_weighted_prototypes_and_keep_them():
    """Eq. 2: the class-0 prototype is the ω-weighted mean of its confident pixels, normalised;
    the unconfident class-0 pixel is an anchor but not part of the prototype (Eq. 3)."""
    loss_fn = build()
    emb = grid([E1, [0.6, 0.8], E2, [0.8, 0.6]])
    pseudo = labels([0, 0, 1, 0])
    confident = labels([0, 0, 1, 255])
    omega = torch.tensor([1., 3., 1., 1.])[None, None, None, :]
    out, update = loss_fn.target_terms(emb, pseudo, confident, omega)
    loss = out['loss_in_tgt']
    p0 = torch.tensor([1 * 1 + 3 * 0.6, 3 * 0.8]) / 4
    p0 = p0 / p0.norm()
    keys = torch.stack([p0, torch.tensor(E2)])
    anchors = torch.tensor([E1, [0.6, 0.8], E2, [0.8, 0.6]])
    sims = anchors @ keys.t()
    own = [0, 0, 1, 0]
    expected = sum(pair_loss(sims[i, own[i]], [sims[i, 1 - own[i]]], 1.0) for i in range(4)) / 4
    assert math.isclose(loss.item(), 0.5 * expected, rel_tol=1e-5)
    assert loss_fn.target_protos.count.sum() == 0  # enqueued by update_memories only
    loss_fn.update_memories(update)
    mem, mem_y = loss_fn.target_protos.get()
    torch.testing.assert_close(mem, keys)
    assert mem_y.tolist() == [0, 1]
    # keys are detached: the gradient of anchor 2 (class 1, positive E2, negative p0) is
    # α/N · (1 − p⁺)(p0 − E2)/τ
    loss.backward()
    p_pos = math.exp(1.0) / (math.exp(1.0) + math.exp(p0[1].item()))
    expected_grad = 0.5 / 4 * (1 - p_pos) * (p0 - torch.tensor(E2))
    torch.testing.assert_close(emb.grad[0, :, 0, 2], expected_grad)


def test_source_terms_in_domain_and_cross_domain():
    """L_in_src keys: pixel memory + this batch's prototypes + prototype memory; L_cross keys: the
    target prototype memory (Eq. 5–6)."""
    loss_fn = build(enqueue_per_class=1)
    # target prototypes first: class 0 → E2 (deliberately far from the source class-0 pixels)
    _, tgt_update = loss_fn.target_terms(grid([E2, E1]), labels([0, 1]), labels([0, 1]),
                                         torch.ones(1, 1, 1, 2))
    emb = grid([E1, E1, E2])
    out, src_update = loss_fn.source_terms(emb, labels([0, 0, 1]), target_update=tgt_update)
    # in-domain: keys are this batch's prototypes E1 (class 0), E2 (class 1); memories empty
    in_src = (2 * pair_loss(1.0, [0.0], 1.0) + pair_loss(1.0, [0.0], 1.0)) / 3
    assert math.isclose(out['loss_in_src'].item(), 0.5 * in_src, rel_tol=1e-5)
    # cross-domain: class-0 anchors E1 against target key E2 (positive) and E1 (negative)
    cross = (2 * pair_loss(0.0, [1.0], 1.0) + pair_loss(0.0, [1.0], 1.0)) / 3
    assert math.isclose(out['loss_cross'].item(), 0.5 * cross, rel_tol=1e-5)
    # one pixel per class enqueued, and both source prototypes, once the update is made
    assert counts(loss_fn) == dict(source_pixels=[0, 0], source_protos=[0, 0],
                                   target_protos=[0, 0])
    loss_fn.update_memories(tgt_update, src_update)
    assert counts(loss_fn) == dict(source_pixels=[1, 1], source_protos=[1, 1],
                                   target_protos=[1, 1])
    # the next step's in-domain keys include the memories
    out, _ = loss_fn.source_terms(grid([E1, E1, E2]), labels([0, 0, 1]))
    # every anchor: 3 positives (pixel, prototype, prototype memory) at 1, 3 negatives at 0
    expected = pair_loss(1.0, [0.0] * 3, 1.0)
    assert math.isclose(out['loss_in_src'].item(), 0.5 * expected, rel_tol=1e-5)


def test_switches_and_edge_cases_are_finite():
    loss_fn = build(in_domain=False)
    assert loss_fn.enabled
    out, update = loss_fn.target_terms(grid([E1, E2]), labels([0, 1]), labels([0, 1]),
                                       torch.ones(1, 1, 1, 2))
    loss_fn.update_memories(update)
    assert out == {} and loss_fn.target_protos.count.tolist() == [1, 1]  # still feeds L_cross
    assert set(loss_fn.source_terms(grid([E1, E2]), labels([0, 1]))[0]) == {'loss_cross'}
    assert not build(weight=0.0).enabled
    assert not build(in_domain=False, cross_domain=False).enabled
    # all-ignore labels: zero losses connected to the embeddings, nothing enqueued
    loss_fn = build()
    emb = grid([E1, E2])
    out = step(loss_fn, emb, labels([255, 255]), torch.ones(1, 1, 1, 2), emb, labels([255, 255]))
    assert all(v.item() == 0 and v.requires_grad for v in out.values())
    assert loss_fn.source_pixels.count.sum() == 0 and loss_fn.target_protos.count.sum() == 0
    # a single class: positives but no negatives → every pair loss is −log 1 = 0
    out, _ = loss_fn.source_terms(grid([E1, [0.6, 0.8]]), labels([1, 1]))
    assert out['loss_in_src'].item() == 0 and math.isfinite(out['loss_cross'].item())


def test_amp_keeps_float32_losses():
    loss_fn = build()
    emb = torch.nn.functional.normalize(torch.randn(2, 2, 4, 4), dim=1).bfloat16()
    emb.requires_grad_(True)
    lab = torch.randint(0, 2, (2, 4, 4))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = step(loss_fn, emb, lab, torch.rand(2, 1, 4, 4), emb, lab)
    assert all(v.dtype == torch.float32 and torch.isfinite(v) for v in out.values())
    sum(out.values()).backward()
    assert torch.isfinite(emb.grad).all()
    assert loss_fn.source_pixels.keys.dtype == torch.float32


def test_similarities_are_float32_under_autocast():
    """L_in_tgt, L_in_src and L_cross (anchors against pixel and prototype memories) under bf16
    autocast equal the float32 losses and gradients to 1e-6, for float32 and bf16 embeddings."""
    import copy

    from test_contrastive_losses import amp_equals_float32
    g = torch.Generator().manual_seed(0)

    def case():
        emb = torch.nn.functional.normalize(torch.randn(2, 8, 4, 4, generator=g), dim=1)
        return emb, torch.randint(0, 3, (2, 4, 4), generator=g), torch.rand(2, 1, 4, 4, generator=g)
    prior = DomainContrast(3, dim=8, tau=0.1, anchors_per_class=5, enqueue_per_class=3)
    emb, lab, omega = case()
    step(prior, emb, lab, omega, emb, lab)  # memories filled
    emb_t, lab_t, omega = case()
    emb_s, lab_s, _ = case()

    def losses(emb_t, emb_s):
        torch.manual_seed(0)
        fresh = copy.deepcopy(prior)
        out = step(fresh, emb_t, lab_t, omega, emb_s, lab_s)
        assert sorted(out) == ['loss_cross', 'loss_in_src', 'loss_in_tgt']
        return torch.stack(list(out.values()))
    amp_equals_float32(losses, emb_t, emb_s)


def test_the_terms_leave_the_memories_to_update_memories():
    """The losses read the memories without changing them; update_memories enqueues what they
    returned, and L_cross with ``target_update`` sees the target memory as it is once this batch's
    prototypes are in it (memories small enough to wrap)."""
    import copy
    g = torch.Generator().manual_seed(0)
    loss_fn = DomainContrast(3, dim=8, tau=0.1, memory_size=2, anchors_per_class=5,
                             enqueue_per_class=3)

    def case():
        emb = torch.nn.functional.normalize(torch.randn(2, 8, 4, 4, generator=g), dim=1)
        return emb, torch.randint(0, 3, (2, 4, 4), generator=g), torch.rand(2, 1, 4, 4, generator=g)
    for _ in range(3):
        emb_t, lab_t, omega = case()
        emb_s, lab_s, _ = case()
        before = copy.deepcopy(loss_fn.state_dict())
        torch.manual_seed(0)
        tgt, tgt_update = loss_fn.target_terms(emb_t, lab_t, lab_t, omega)
        pushed = copy.deepcopy(loss_fn)
        pushed.update_memories(tgt_update)
        src, src_update = loss_fn.source_terms(emb_s, lab_s, target_update=tgt_update)
        assert all(torch.equal(v, before[k]) for k, v in loss_fn.state_dict().items())
        # L_cross = the loss against the memory with this batch's target prototypes pushed
        torch.manual_seed(0)
        pushed.target_terms(emb_t, lab_t, lab_t, omega)  # the same draws as above
        expected, _ = pushed.source_terms(emb_s, lab_s)
        assert torch.equal(src['loss_cross'], expected['loss_cross'])
        assert torch.equal(src['loss_in_src'], expected['loss_in_src'])
        loss_fn.update_memories(tgt_update, src_update)
        assert torch.equal(loss_fn.target_protos.keys, pushed.target_protos.keys)
        assert loss_fn.source_pixels.count.sum() > 0 and loss_fn.source_protos.count.sum() > 0
