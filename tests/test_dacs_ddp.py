import os
import os.path as osp
import subprocess
import sys

from conftest import REPO, free_port


def test_dacs_ddp_equals_single_process_on_the_global_batch():
    script = osp.join(REPO, 'tests', 'dist', 'dacs_ddp_check.py')
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         '--master_addr=127.0.0.1', f'--master_port={free_port()}', script],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, 'PYTHONPATH': osp.join(REPO, 'tests'), 'OMP_NUM_THREADS': '1'})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and 'DDP_EQUIVALENCE_OK' in out, out[-4000:]
