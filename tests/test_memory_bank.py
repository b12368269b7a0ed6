"""Per-class FIFO memory (models/utils/memory_bank.py)."""
import pytest
import torch

from mmseg_uda.models.utils.memory_bank import ClassMemoryBank


def stored(bank, c):
    keys, labels = bank.get()
    return sorted(keys[labels == c, 0].tolist())


def test_fifo_per_class():
    bank = ClassMemoryBank(num_classes=3, size=3, dim=2)
    k = torch.arange(1., 6.)[:, None].repeat(1, 2)  # keys 1..5
    bank.push(k, torch.tensor([0, 1, 0, 255, 0]))  # 255 (ignore) is dropped
    assert stored(bank, 0) == [1., 3., 5.] and stored(bank, 1) == [2.] and stored(bank, 2) == []
    assert bank.count.tolist() == [3, 1, 0] and bank.ptr.tolist() == [0, 1, 0]
    bank.push(torch.tensor([[6., 6.], [7., 7.]]), torch.tensor([0, 0]))  # 1 and 3 leave
    assert stored(bank, 0) == [5., 6., 7.]
    bank.push(torch.tensor([[8., 8.]]), torch.tensor([0]))  # then 5
    assert stored(bank, 0) == [6., 7., 8.]


def test_more_than_size_at_once_keeps_the_newest():
    bank = ClassMemoryBank(num_classes=2, size=2, dim=1)
    bank.push(torch.tensor([[1.]]), torch.tensor([1]))
    bank.push(torch.arange(10., 15.)[:, None], torch.tensor([1] * 5))
    assert stored(bank, 1) == [13., 14.]
    bank.push(torch.tensor([[15.]]), torch.tensor([1]))  # the oldest (13) leaves
    assert stored(bank, 1) == [14., 15.]


def test_state_is_in_the_state_dict_and_detached():
    bank = ClassMemoryBank(2, 4, 3)
    x = torch.randn(5, 3, requires_grad=True)
    bank.push(x * 2, torch.tensor([0, 1, 1, 0, 1]))
    assert not bank.keys.requires_grad
    copy = ClassMemoryBank(2, 4, 3)
    copy.load_state_dict(bank.state_dict())
    for a, b in zip(copy.get(), bank.get()):
        assert torch.equal(a, b)


def test_empty_and_errors():
    bank = ClassMemoryBank(2, 4, 3)
    bank.push(torch.zeros(2, 3), torch.tensor([255, 255]))  # all ignored
    keys, labels = bank.get()
    assert keys.shape == (0, 3) and labels.shape == (0, )
    with pytest.raises(ValueError, match='dim 2, expected 3'):
        bank.push(torch.zeros(1, 2), torch.tensor([0]))
    with pytest.raises(ValueError, match='must be > 0'):
        ClassMemoryBank(2, 0, 3)


def _push_on_rank(rank, port, out):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    bank = ClassMemoryBank(num_classes=2, size=4, dim=1)
    # rank 0 sends 1 key, rank 1 sends 3 (different counts exercise the padded gather)
    keys = torch.tensor([[1.]]) if rank == 0 else torch.tensor([[2.], [3.], [4.]])
    labels = torch.tensor([0]) if rank == 0 else torch.tensor([0, 1, 0])
    bank.push(keys, labels)
    torch.save(bank.state_dict(), f'{out}/rank{rank}.pth')
    dist.barrier()
    dist.destroy_process_group()


def test_ranks_hold_the_same_memory(tmp_path):
    import torch.multiprocessing as mp
    from conftest import free_port
    mp.spawn(_push_on_rank, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    states = [torch.load(tmp_path / f'rank{r}.pth') for r in range(2)]
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k
    bank = ClassMemoryBank(2, 4, 1)
    bank.load_state_dict(states[0])
    assert stored(bank, 0) == [1., 2., 4.] and stored(bank, 1) == [3.]
