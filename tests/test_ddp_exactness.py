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


METHODS = ['dacs', 'dacs_mic', 'dacs_hrda', 'clda', 'rccr', 'sdca', 't2sda', 'confeti']
# float64 parameters and inputs: losses keep float64 (models/utils/precision.py), so every tensor,
# optimiser moments and CUT's outputs included, must agree to 1e-6 (CONFETI measured: 3e-13). Run
# where float32 leaves something unchecked (CONFETI's Adam moments and CUT outputs) or float64 broke
# before (CLDA's affine views, SDCA's Gaussians); the others run it as cheaply in float32.
FLOAT64 = ('clda', 'sdca', 'confeti')


@pytest.mark.parametrize('method,dtype', [(m, 'float32') for m in METHODS]
                         + [(m, 'float64') for m in FLOAT64])
def test_two_processes_train_exactly_as_one_on_the_global_batch(method, dtype):
    """3 iterations, 2 gloo processes x 2 images vs 1 process x 4 images, every random choice
    live: the same parameters and stateful buffers (tests/dist/exactness_check.py)."""
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'exactness_check.py'),
                       f'{method.upper()}_EXACT_OK', method, dtype)
    assert f'({dtype}, tolerance' in out and ', 0 differ' in out
