"""Global-batch draws and means (mmseg_uda/models/utils/global_batch.py) in one process; the
two-process behaviour is tests/test_ddp_exactness.py."""
from contextlib import contextmanager

import pytest
import torch
from kornia.augmentation import ColorJiggle

from mmseg_uda.models.utils import global_batch as gb


@contextmanager
def as_rank_slice(offset, local, total, seed=0):
    """This process as the rank owning images [offset, offset + local) of a global batch."""
    previous = gb.current()
    gb._STATE.batch = gb._Batch(local, offset, total, torch.Generator().manual_seed(seed))
    try:
        yield
    finally:
        gb._STATE.batch = previous


def test_per_image_draws_are_this_ranks_rows_of_the_global_draw():
    with as_rank_slice(0, 4, 4):
        whole = gb.rand_images(4, 3)
    with as_rank_slice(2, 2, 4):
        part = gb.rand_images(2, 3)
        with pytest.raises(ValueError, match='3 images'):
            gb.rand_images(3, 3)
    assert torch.equal(part, whole[2:])


def test_shared_draws_and_rows_are_the_same_for_every_split():
    with as_rank_slice(0, 4, 4):
        a = (gb.rand_shared(5), gb.randperm_shared(7), gb.rand_rows(6))
    with as_rank_slice(2, 2, 4):
        b = (gb.rand_shared(5), gb.randperm_shared(7), gb.rand_rows(6))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(a[2], b[2])  # one process: its rows are all rows
    assert sorted(b[1].tolist()) == list(range(7))


@pytest.mark.parametrize('p', [1.0, 0.5])
def test_kornia_parameters_of_a_slice_augment_as_the_global_batch(p):
    """kornia stores factors only for the images it augments: slicing must follow batch_prob."""
    jitter = ColorJiggle(0.4, 0.4, 0.4, 0.1, p=p)
    x = torch.rand(6, 3, 8, 8)
    for seed in range(5):
        with as_rank_slice(0, 6, 6, seed):
            whole = jitter(x, params=gb.kornia_params(jitter, x.shape))
        with as_rank_slice(2, 3, 6, seed):
            part = jitter(x[2:5], params=gb.kornia_params(jitter, x[2:5].shape))
        torch.testing.assert_close(part, whole[2:5])


def test_global_mean_is_sum_over_count_and_zero_without_rows():
    x = torch.tensor([1.0, 2.0, 6.0], requires_grad=True)
    mean = gb.global_mean(x.sum(), 3)
    assert mean.item() == pytest.approx(3.0)
    mean.backward()
    assert torch.allclose(x.grad, torch.full((3, ), 1 / 3))
    empty = gb.global_mean(x[:0].sum() + x.sum() * 0, 0)
    assert empty.item() == 0 and empty.requires_grad


def test_select_global_in_an_iteration_returns_picks_in_row_order():
    keys = torch.tensor([0.3, 0.9, 0.1, 0.7])
    pick = lambda k: k.topk(3).indices  # noqa: E731
    assert gb.select_global(pick, keys).tolist() == [1, 3, 0]  # outside: as returned
    with as_rank_slice(0, 1, 1):
        assert gb.select_global(pick, keys).tolist() == [0, 1, 3]


def test_iteration_seeds_differ_by_step_and_run():
    seeds = {gb.iteration_seed(base, step) for base in (0, 1) for step in range(100)}
    assert len(seeds) == 200 and all(0 <= s < 2 ** 63 for s in seeds)


def test_segmentor_counts_its_iterations_and_resumes_the_draws():
    """The iteration count seeds the draws and is a checkpointed buffer: a model restored from a
    state dict draws what the original draws at the next iteration."""
    from test_dacs import build_dacs, optim, paired_batch
    torch.manual_seed(0)
    model = build_dacs()
    ow = optim(model)
    model.train_step(paired_batch(seed=1), ow)
    assert int(model.steps_done) == 1 and 'steps_done' in model.state_dict()
    torch.manual_seed(0)
    twin = build_dacs()
    twin.load_state_dict(model.state_dict())
    masks = []
    for m in (model, twin):
        torch.manual_seed(123)  # the default generator and seed differ from the run's: not used
        m.train_step(paired_batch(seed=2), optim(m))
        masks.append(m.debug_output['mix_mask'])
    assert torch.equal(masks[0], masks[1]) and int(twin.draw_seed) == int(model.draw_seed) == 0
