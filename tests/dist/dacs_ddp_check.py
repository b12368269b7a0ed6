"""Run by tests/test_dacs_ddp.py under torchrun (2 CPU processes, gloo).

Two DACS iterations with DDP on a global batch of 4 (2 per rank) must give every rank the same
student and teacher, equal to a single-process run on the 4 images (tolerance 1e-5). GroupNorm (BN
statistics depend on the per-rank batch by design), no strong augmentation, and a fixed ClassMix
rule keep the runs comparable; the confidence weight q is shared across ranks by the segmentor.
"""
import os
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from mmengine.optim import OptimWrapper  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

import mmseg_uda.models.segmentors.dacs as dacs_module  # noqa: E402
from mmseg_uda.engine import DeviceAgnosticDDP  # noqa: E402
from test_dacs import paired_batch, tiny_segmentor  # noqa: E402


def even_classes(labels, num_classes, scope='image', ignore_index=255):
    return labels % 2 == 0  # deterministic stand-in for the random class choice


def build():
    torch.manual_seed(0)
    seg = tiny_segmentor()
    seg['backbone']['norm_cfg'] = dict(type='GN', num_groups=4)
    seg['decode_head']['norm_cfg'] = dict(type='GN', num_groups=4)
    model = MODELS.build(dict(type='DACS', segmentor=seg, ema=dict(alpha=0.99), strong_aug=None,
                              pseudo_threshold=0.3))
    model.init_weights()
    return model


def flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def run(model, batches, forward_model):
    ow = OptimWrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1))
    for batch in batches:
        forward_model.train_step(batch, ow)
    return flat(model.student), flat(model.teacher_model)


def split(batch, rank):
    return {b: {k: v[2 * rank:2 * rank + 2] for k, v in batch[b].items()} for b in batch}


def main():
    register_all_modules(init_default_scope=True)
    dacs_module.classmix_masks = even_classes
    torch.set_num_threads(1)
    batches = [paired_batch(b=4, seed=s) for s in (1, 2)]
    # the single-process reference first, before the process group exists
    single = build()
    ref_student, ref_teacher = run(single, batches, single)
    moved = (ref_student - flat(build().student)).abs().max().item()
    assert moved > 1e-3, f'the reference run did not train (max change {moved})'

    # a stuck collective fails within two minutes instead of hanging the test
    dist.init_process_group('gloo', timeout=timedelta(seconds=120))
    rank = dist.get_rank()
    model = build()
    ddp = DeviceAgnosticDDP(module=model, broadcast_buffers=False)
    student, teacher = run(model, [split(b, rank) for b in batches], ddp)
    gathered = [torch.zeros_like(torch.cat([student, teacher])) for _ in range(2)]
    dist.all_gather(gathered, torch.cat([student, teacher]))
    if rank == 0:
        assert torch.equal(gathered[0], gathered[1]), 'ranks differ after the DDP iterations'
        for name, a, b in (('student', student, ref_student), ('teacher', teacher, ref_teacher)):
            err = (a - b).abs().max().item()
            assert err < 1e-5, f'{name}: DDP vs single process differ by {err}'
            print(f'{name}: max |DDP - single| = {err:.2e}')
        print('DDP_EQUIVALENCE_OK')
    dist.barrier()
    sys.stdout.flush()
    os._exit(0)  # gloo's process-group teardown can hang at exit; all checks are done here


if __name__ == '__main__':
    main()
