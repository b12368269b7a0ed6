import os
import os.path as osp
import signal
import subprocess
import sys

from conftest import REPO, free_port


def run_torchrun(script, marker, nprocs=2, timeout=240):
    """Run ``script`` under torchrun on CPU; its output, asserting it printed ``marker``."""
    proc = subprocess.Popen(
        [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={nprocs}',
         '--master_addr=127.0.0.1', f'--master_port={free_port()}', script],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, 'PYTHONPATH': osp.join(REPO, 'tests'), 'OMP_NUM_THREADS': '1'})
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # no orphaned ranks
        out, _ = proc.communicate()
        # the marker is printed only after every check passed: a hang after it is one of gloo's
        # shutdown, not a wrong result
        assert marker in out, out[-4000:]
        return out
    assert proc.returncode == 0 and marker in out, out[-4000:]
    return out


def test_dacs_ddp_equals_single_process_on_the_global_batch():
    run_torchrun(osp.join(REPO, 'tests', 'dist', 'dacs_ddp_check.py'), 'DDP_EQUIVALENCE_OK')
