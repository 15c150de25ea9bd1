#!/usr/bin/env bash
# Trains the paper's MNIST MLP (3 hidden binary dense layers of 4096 units, binary weights and activations,
# dropout 0.1/0.2, squared hinge loss, Adam, batch 100) on CUDA through the trainer's ILGPU backend, for a fixed
# number of epochs, and prints each epoch's time and accuracy, then the exported model's deployed test accuracy.
# The whole run is held under 5 minutes (the kernels are compiled once, at the start).
#
#   trainer/bench/device-train.sh [EPOCHS] [GRAD_BITS] [BN] [OPTIMIZER]
#       EPOCHS     fixed number of epochs (default 3)
#       GRAD_BITS  32 (float gradients, default) or 2-16 (the QNN paper's k-bit gradients, e.g. 6)
#       BN         exact (default) or shift;  OPTIMIZER  adam (default) or adamax-shift
#
# Needs an NVIDIA GPU and its driver, and either the .NET 10 SDK (the script builds the CLI in Release) or
# QNN=/path/to/qnn (a published CLI). MNIST comes from QNN_MNIST=/folder/with/the/four/IDX/files, else from the
# cache of `qnn data fetch mnist`. Results go to OUT (default: a temporary folder): summary.json, the per-epoch CSV
# log and the .qnn model. Not measured on a GPU yet: see trainer/RESULTS.md.
set -euo pipefail

EPOCHS=${1:-3}
GRAD_BITS=${2:-32}
BN=${3:-exact}
OPTIMIZER=${4:-adam}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

if [ -z "${QNN:-}" ]; then
  command -v dotnet >/dev/null || { echo "device-train: no dotnet SDK and no QNN=/path/to/qnn" >&2; exit 2; }
  dotnet build -c Release "$ROOT/cli/Qnn.Cli/Qnn.Cli.csproj" -nologo -v q >&2
  QNN="$ROOT/cli/Qnn.Cli/bin/Release/net10.0/qnn"
fi
DATA=mnist
[ -n "${QNN_MNIST:-}" ] && DATA="idx:$QNN_MNIST"

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "3 x 4096 MLP on CUDA: $EPOCHS epochs, ${GRAD_BITS}-bit gradients, $BN batch norm, $OPTIMIZER"

start=$(date +%s)
timeout 290 "$QNN" train --backend ilgpu --accelerator cuda --arch mlp --width 4096 --epochs "$EPOCHS" \
  --grad-bits "$GRAD_BITS" --bn "$BN" --optimizer "$OPTIMIZER" --dataset "$DATA" --seed 1 \
  --out "$OUT/mlp4096.qnn" --log "$OUT/mlp4096.log.csv" --plot "$OUT/mlp4096.png" --json > "$OUT/summary.json"
end=$(date +%s)

echo "epoch  seconds  train_acc  val_acc"
tail -n +2 "$OUT/mlp4096.log.csv" | awk -F, '{ printf "%5d  %7.1f  %8.2f%%  %6.2f%%\n", $1, $7, 100 * $4, 100 * $6 }'
grep -E '"(testAccuracy|floatAccuracy|valAccuracy|trainSeconds)"' "$OUT/summary.json" | tr -d ' ,'
echo "wall time $((end - start)) s (kernel compilation and the test-set export included); results in $OUT"
