#!/usr/bin/env bash
# Multi-process training: tools/dist_train.sh CONFIG NUM_PROCS [train.py flags] (see dist_launch.sh)
set -euo pipefail
CONFIG=$1
NPROCS=$2
shift 2
exec bash "$(dirname "${BASH_SOURCE[0]}")/dist_launch.sh" train.py "$NPROCS" "$CONFIG" "$@"
