#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh: dist_launch.sh SCRIPT NUM_PROCS [args]
# Works on CUDA (one process per GPU, NCCL) and on CPU (gloo). NNODES, NODE_RANK, PORT, MASTER_ADDR
# and PYTHON can be set (several machines, concurrent jobs, another interpreter).
set -euo pipefail
SCRIPT=$1
NPROCS=$2
shift 2
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${PORT:-29500}"
if [ "${NODE_RANK:-0}" = 0 ]; then
    # the rendezvous server listens on PORT here: a busy port would end in a raw traceback or a hang
    "${PYTHON:-python}" - "$PORT" <<'PY' || exit 1
import socket, sys
if not sys.argv[1].isdigit():
    sys.exit(f'dist_launch.sh: PORT={sys.argv[1]!r} is not a port number')
port = int(sys.argv[1])
with socket.socket() as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server: TIME_WAIT is fine
    try:
        sock.bind(('', port))
    except OSError as err:
        with socket.socket() as free:
            free.bind(('', 0))
            hint = free.getsockname()[1]
        sys.exit(f'dist_launch.sh: port {port} is in use ({err.strerror}; another run?): set '
                 f'PORT to a free port, e.g. PORT={hint} tools/dist_train.sh ...')
PY
fi
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="$PORT" --nproc_per_node="$NPROCS" "$TOOLS/$SCRIPT" "$@" --launcher pytorch
