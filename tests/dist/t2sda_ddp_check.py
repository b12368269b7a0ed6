"""Run by tests/test_t2sda.py under torchrun (2 CPU processes, gloo).

Three T2S-DA iterations under DDP (find_unused_parameters: the source and mixed passes leave the
projector out, the pull pass the decode head), each rank with its own images: afterwards every rank
holds the same student and the same teacher (parameters, the EMA projector and BN buffers). The
batch quantities of L_pull (source prototypes, the DRW weights) are those of the global batch,
equal on both ranks.
"""
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from mmseg_uda.models.losses import dynamic_class_weights  # noqa: E402
from rank_checks import (assert_ranks_saw_different_images,  # noqa: E402
                         assert_same_on_all_ranks, ddp_iterations, finish, init_ranks)
from test_dacs import paired_batch  # noqa: E402
from test_t2sda import build_t2sda  # noqa: E402


def main():
    rank = init_ranks()
    torch.manual_seed(0)  # same initial weights on both ranks
    model = build_t2sda()
    batches = (paired_batch(seed=10 * it + rank) for it in range(3))
    for _, log in ddp_iterations(model, batches, find_unused_parameters=True):
        assert float(log['pull.pull']) > 0
    state = {f'student.{n}': p for n, p in model.student.named_parameters()}
    state.update({n: t for n, t in model.state_dict().items() if n.startswith('teacher.')})
    assert any('projection_head' in n for n in state if n.startswith('teacher.'))
    # global-batch quantities from different local data
    g = torch.Generator().manual_seed(rank)
    keys, labels = torch.randn(6, 3, generator=g), torch.tensor([0, 0, 1, 1, 2, 255])
    protos, present = model.pull.prototypes(keys, labels)
    everything = [torch.zeros_like(keys) for _ in range(2)]
    dist.all_gather(everything, keys)
    everything, all_labels = torch.cat(everything), labels.repeat(2)
    for c in range(3):  # Eq. 5-6 over both ranks' pixels, as one process with the whole batch
        expected = torch.nn.functional.normalize(everything[all_labels == c].mean(0), dim=0)
        torch.testing.assert_close(protos[c], expected)
    assert present.tolist() == [True, True, True, False]
    weights = dynamic_class_weights(torch.rand(6, generator=g), labels.clamp(max=3), 4)
    assert_same_on_all_ranks(dict(protos=protos, weights=weights))
    assert_same_on_all_ranks(state)
    assert_ranks_saw_different_images(model)
    finish(f'{len(state)} state tensors equal on both ranks', 'T2SDA_DDP_STATE_OK')


if __name__ == '__main__':
    main()
