#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh: dist_launch.sh SCRIPT NUM_PROCS [args]
# Works on CUDA (one process per GPU, NCCL) and on CPU (gloo). NNODES, NODE_RANK, PORT, MASTER_ADDR
# and PYTHON can be set (several machines, concurrent jobs, another interpreter).
set -euo pipefail
SCRIPT=$1
NPROCS=$2
shift 2
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHONPATH="$TOOLS/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" --nproc_per_node="$NPROCS" "$TOOLS/$SCRIPT" "$@" --launcher pytorch
