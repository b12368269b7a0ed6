from contextlib import contextmanager

import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel
from mmengine.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class DeviceAgnosticDDP(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for CPU (gloo) and GPU, and for UDA segmentors.

    mmengine's Runner always passes ``device_ids=[LOCAL_RANK]``, which torch's DDP rejects for CPU
    modules: for a module on CPU they are dropped. A module with ``custom_train_step = True`` (our
    UDA segmentors: several losses, one optimiser step) gets the whole ``train_step`` and this
    wrapper as ``forward``, so each of its student passes runs through DDP's forward and arms the
    gradient all-reduce of the backward that follows. Select it with
    ``model_wrapper_cfg = dict(type='DeviceAgnosticDDP')`` (ignored in non-distributed runs).

    Children named in the module's ``ddp_ignored_modules`` (CONFETI's CUT networks: each has its
    own optimiser and backward passes) are left out of DDP: their parameters and buffers are
    broadcast from rank 0 here, and the module averages their gradients over ranks before each of
    their steps (``average_gradients_``).
    """

    def __init__(self, module, **kwargs):
        if next(module.parameters()).device.type == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        ignored = [f'{name}.{key}' for name in getattr(module, 'ddp_ignored_modules', ())
                   if getattr(module, name, None) is not None
                   for key in getattr(module, name).state_dict()]
        if ignored:
            self._set_params_and_buffers_to_ignore_for_model(module, ignored)
        super().__init__(module=module, **kwargs)
        state = module.state_dict(keep_vars=True)
        for key in ignored:  # DDP broadcasts only what it syncs: same start on every rank
            torch_dist.broadcast(state[key].data, src=0)

    def train_step(self, data, optim_wrapper):
        if getattr(self.module, 'custom_train_step', False):
            return self.module.train_step(data, optim_wrapper, forward=self)
        return super().train_step(data, optim_wrapper)


def init_cpu_distributed(cfg):
    """Start the process group of a ``torchrun`` launch (``cfg.launcher``) on a machine without CUDA.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` unconditionally, which fails without
    CUDA; the Runner skips it when the group already exists. On CPU only gloo works, whatever
    ``env_cfg.dist_cfg.backend`` says. Returns True if a group was started here.
    """
    import torch
    if cfg.get('launcher') != 'pytorch' or torch.cuda.is_available() \
            or torch_dist.is_initialized():
        return False
    backend = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend', 'gloo')
    torch_dist.init_process_group(backend='gloo' if backend == 'nccl' else backend)
    return True


@contextmanager
def process_group_scope():
    """Run a tool's work, then destroy the process group, whoever started it
    (``init_cpu_distributed``, mmengine's Runner or ``init_dist``); used as
    ``@process_group_scope()`` on a tool's ``main``.

    A group left to the interpreter's exit can abort a rank that has finished its work: gloo's
    worker threads are torn down during interpreter finalisation and the process dies with SIGABRT
    ("terminate called without an active exception"), which torchrun reports as a failed run
    (pytorch issue 190489; NCCL warns instead). On success the ranks first meet at a barrier, so
    none closes its connections while another still uses them; on an error the group is destroyed
    at once, so the other ranks fail instead of waiting for the timeout.
    """
    try:
        yield
    except BaseException:
        if torch_dist.is_initialized():
            torch_dist.destroy_process_group()
        raise
    if torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
