"""DDP exactness: N processes with B images each train exactly as one process on the N·B images."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
from conftest import REPO, free_port


def run_torchrun(script, marker, *args, nprocs=2, timeout=240):
    """Run ``script`` (with ``args``) under torchrun on CPU; its output, asserting it printed
    ``marker``."""
    proc = subprocess.Popen(
        [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={nprocs}',
         '--master_addr=127.0.0.1', f'--master_port={free_port()}', script, *args],
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


@pytest.mark.parametrize('method,dtype', [
    ('dacs', 'float32'), ('clda', 'float32'), ('rccr', 'float32'), ('sdca', 'float32'),
    ('t2sda', 'float32'), ('confeti', 'float32'),
    # since the feature-grid labels moved to the receptive-field centres, 36 tensors of CUT's
    # generator (weights, Adam moments, outputs; not the student) differ by ~1e-6 relative after 3
    # iterations: a float32 near-tie in the generator's losses is suspected, not yet found
    pytest.param('confeti', 'float64', marks=pytest.mark.xfail(
        strict=True, reason='CUT generator differs ~1e-6 between 2 processes and 1 (open)'))])
def test_two_processes_train_exactly_as_one_on_the_global_batch(method, dtype):
    """3 iterations, 2 gloo processes x 2 images vs 1 process x 4 images, every random choice
    live: the same parameters and stateful buffers (tests/dist/exactness_check.py)."""
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'exactness_check.py'),
                       f'{method.upper()}_EXACT_OK', method, dtype)
    assert f'({dtype}, tolerance' in out and ', 0 differ' in out
