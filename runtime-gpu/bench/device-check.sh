#!/usr/bin/env bash
# The GPU runtime's device check, in one run of under 5 minutes on a machine with an NVIDIA GPU and the .NET SDK:
#   1. builds qnn (Release, through ./qnn),
#   2. gets MNIST into the cache if it is not there (`./qnn data fetch mnist`),
#   3. trains a small MLP for one epoch unless a model is given,
#   4. `qnn verify` on CUDA over the 10,000 MNIST test images: portable, fast, and every GPU kernel version,
#   5. `qnn bench gpu` on CUDA: the network per kernel version, and the binary GEMM at 1024, 4096 and the paper's 8192,
# and writes the tables to runtime-gpu/bench/out/device-check-<date>.txt (or $OUT_DIR).
#
# Usage: runtime-gpu/bench/device-check.sh [MODEL.qnn]
# Exit code: 0 when every runtime and kernel version agreed and validated, else the first failing step's code.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out_dir="${OUT_DIR:-$root/runtime-gpu/bench/out}"
mkdir -p "$out_dir"
stamp="$(date -u +%Y-%m-%dT%H%MZ)"
report="$out_dir/device-check-$stamp.txt"
started=$SECONDS
status=0

say() { echo "== [$((SECONDS - started)) s] $*" | tee -a "$report"; }
step() { # step SECONDS COMMAND...: runs a step with a time limit, its output to the screen and the report
  local limit=$1; shift
  say "$*"
  timeout "$limit" "$@" 2>&1 | tee -a "$report"
  local rc=${PIPESTATUS[0]}
  [[ $rc -ne 0 ]] && say "exit code $rc" && [[ $status -eq 0 ]] && status=$rc
  return $rc
}

say "qnn GPU device check, $(date -u), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$report"
else
  say "nvidia-smi not found: CUDA may be missing; qnn will say so"
fi

step 150 ./qnn --version || { say "build failed"; exit 1; }
step 60 ./qnn data fetch mnist || say "MNIST is not in the cache and could not be fetched: the verify and network steps will fail"

model="${1:-}"
if [[ -z "$model" ]]; then
  model="$out_dir/mlp-1epoch.qnn"
  step 120 ./qnn train --arch mlp --epochs 1 --train-limit 20000 --out "$model" || { say "training failed"; exit "$status"; }
fi

step 150 ./qnn verify "$model" --dataset mnist --accelerator cuda --runtimes portable,fast,gpu \
  --kernel xnor3,xnor2,xnor1,float,cublas
step 120 ./qnn bench gpu "$model" --accelerator cuda --dataset mnist --batch 1000 --validate 1000 \
  --gemm 1024,4096,8192 --min-seconds 0.3

say "done in $((SECONDS - started)) s, exit code $status; tables in $report"
exit "$status"
