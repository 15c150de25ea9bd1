#!/usr/bin/env bash
# The GPU half's device check: the one command to run on a machine with an NVIDIA GPU after copying the kit that
# runtime-gpu/bench/make-device-kit.sh builds. Needs no .NET SDK, no package registry and no network: only bash,
# coreutils, tar, xz and, for the PyTorch baseline, python3 with torch. In one run of under 8 minutes it
#   1. checks the kit's MANIFEST.sha256, unpacks the .NET runtime and qnn into a temporary folder,
#   2. prints the GPU (nvidia-smi), ILGPU's view of it (qnn bench gpu --list) and which libcuda and libcublas it finds,
#   3. trains the 3 x 1024 MLP on the CPU trainer (all cores) and `qnn verify`s it over the MNIST test images on the
#      portable, fast and GPU runtimes, every kernel version (xnor3, xnor2, xnor1, float baseline, cuBLAS),
#   4. `qnn bench gpu`: the network per kernel version at batch 1 and 1000, the binary GEMM at 1024, 4096 and 8192,
#   5. trains the same MLP with the ILGPU backend on CUDA (float and 6-bit gradients, the CPU trainer beside each),
#      the small conv net on both, and the paper's 3 x 4096 MLP on CUDA (without a GPU: the CPU trainer's runs only),
#   6. runs the PyTorch baseline (bench/pytorch/baseline.py) when python3 has torch,
# each step under a time limit taken from one budget, tables to $OUT (default runtime-gpu/bench/out/<date>/).
#
# Without a CUDA device ILGPU can open, every GPU step runs on ILGPU's CPU accelerator with small sizes and the
# report says in its first lines that no GPU is there: the figures are then no GPU figures.
#
# Usage: runtime-gpu/bench/device-check.sh [--kit DIR] [--out DIR] [--quick]
#   --quick      the reduced check the tests run: kit, manifest, unpack, devices, a tiny model verified on a few images
#   KIT, OUT     the same as --kit and --out;  QNN_CHECK_BUDGET  seconds for the whole run (default 450)
#   QNN_CHECK_LIMIT  test images for verify (default: 10000 on a GPU, 200 without)
# Exit code: 0 when every step that ran agreed and validated; 1 on a mismatch or a failed step; 2 on a bad kit.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kit="${KIT:-$root/.device-kit}"
out="${OUT:-}"
quick=0
while (($#)); do
  case "$1" in
    --kit) kit="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "device-check: unknown argument \"$1\" (use --kit DIR, --out DIR, --quick)" >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || out="$root/runtime-gpu/bench/out/$(date -u +%Y-%m-%dT%H%M%SZ)"
budget="${QNN_CHECK_BUDGET:-450}"
mkdir -p "$out" || { echo "device-check: cannot create $out" >&2; exit 2; }
out="$(cd "$out" && pwd)"
report="$out/report.txt"
summary="$out/summary.txt"
: >"$report"
: >"$summary"
status=0
started=$SECONDS

say() { echo "== [$((SECONDS - started)) s] $*" | tee -a "$report"; }
note() { echo "$*" | tee -a "$summary" >>"$report"; echo "$*"; }
fail() { [[ $status -eq 0 ]] && status=1; say "FAILED: $*"; note "FAILED: $*"; }

# step NAME CAP COMMAND...: runs COMMAND with a limit of CAP seconds or what is left of the budget, whichever is
# less; stdout to $out/NAME.out, stderr to $out/NAME.err, both into the report. Returns the exit code (124: limit).
step() {
  local name=$1 cap=$2; shift 2
  local left=$((budget - (SECONDS - started)))
  if ((left < 15)); then say "$name: skipped, the ${budget} s budget is spent"; note "$name: skipped (time budget spent)"; return 125; fi
  local limit=$((cap < left ? cap : left))
  say "$name (limit $limit s): ${*/#$work\/qnn\/qnn/qnn}"
  local t0=$SECONDS
  COLUMNS=150 timeout "$limit" "$@" >"$out/$name.out" 2>"$out/$name.err"
  local rc=$?
  cat "$out/$name.out" "$out/$name.err" >>"$report"
  say "$name: exit code $rc after $((SECONDS - t0)) s"
  return $rc
}

# must NAME CAP COMMAND...: a step whose failure fails the check (a step skipped for time does not).
must() {
  step "$@" && return 0
  local rc=$?
  ((rc == 125)) || fail "$1: exit code $rc (see $1.out and $1.err)"
  return $rc
}

json_field() { sed -n "s/^  \"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }
percent() { awk -v x="$1" 'BEGIN { if (x == "") print "?"; else printf "%.2f %%", 100 * x }'; }

say "qnn GPU device check, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -n), $(nproc) cores"

# 1. The kit.
[[ -f "$kit/MANIFEST.sha256" ]] || { say "no kit at $kit (build it with runtime-gpu/bench/make-device-kit.sh)"; exit 2; }
(cd "$kit" && sha256sum --quiet -c MANIFEST.sha256) >>"$report" 2>&1 ||
  { say "the kit at $kit fails its MANIFEST.sha256: copy it again"; exit 2; }
say "kit: $kit, every file matches MANIFEST.sha256"
sed 's/^/  /' "$kit/kit.txt" | tee -a "$report"
cat "$kit/kit.txt" >>"$summary"
work="$(mktemp -d "${TMPDIR:-/tmp}/qnn-device-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/dotnet" "$work/qnn" "$work/lib"
tar -C "$work/dotnet" -xJf "$kit/dotnet-runtime.tar.xz" && tar -C "$work/qnn" -xJf "$kit/qnn.tar.xz" ||
  { say "unpacking the kit failed"; exit 2; }
export DOTNET_ROOT="$work/dotnet" PATH="$work/dotnet:$PATH" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
export QNN_DATA="$work/cache"    # the check reads MNIST from the kit; nothing may fall back to a cache or a fetch
qnn="$work/qnn/qnn"
data="idx:$kit/mnist"
say "qnn $("$qnn" --version 2>&1) on .NET $(ls "$work/dotnet/shared/Microsoft.NETCore.App")"

# 2. The GPU as the driver, ILGPU and the dynamic linker see it.
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,compute_cap --format=csv 2>&1 | tee -a "$report" "$summary"
else
  say "nvidia-smi: not found (no NVIDIA driver on this machine)"
fi
# ILGPU opens "libcuda.so" and ILGPU.Algorithms "libcublas.so.12", ".11" or ".10". A driver-only machine may have
# just libcuda.so.1, and CUDA 13 ships libcublas.so.13 (the same cublas*_v2 C entry points): link them under the
# names looked for, in a folder of our own, and say so.
find_lib() { # prints the first file for each pattern, from the linker's cache, CUDA's folders and Python's packages
  local pattern
  for pattern in "$@"; do
    { ldconfig -p 2>/dev/null | awk -v p="$pattern" '$1 ~ "^"p"$" { print $NF }'
      ls -d /usr/local/cuda*/lib64/$pattern /usr/local/cuda*/targets/*/lib/$pattern /usr/lib/x86_64-linux-gnu/$pattern 2>/dev/null
      if command -v python3 >/dev/null; then
        python3 -c 'import site,sys; print("\n".join(site.getsitepackages()))' 2>/dev/null |
          while read -r d; do ls -d "$d"/nvidia/*/lib/$pattern "$d"/torch/lib/$pattern 2>/dev/null; done
      fi; } | head -1
  done | head -1
}
cuda_lib="$(find_lib 'libcuda.so')"
if [[ -z "$cuda_lib" ]]; then
  cuda1="$(find_lib 'libcuda.so.1')"
  [[ -n "$cuda1" ]] && ln -s "$cuda1" "$work/lib/libcuda.so" && cuda_lib="$cuda1 (linked as libcuda.so)"
fi
blas_lib="$(find_lib 'libcublas.so.12' 'libcublas.so.11' 'libcublas.so.10')"
if [[ -z "$blas_lib" ]]; then
  other="$(find_lib 'libcublas.so.1[3-9]')"
  if [[ -n "$other" ]]; then
    ln -s "$other" "$work/lib/libcublas.so.12"
    export LD_LIBRARY_PATH="$(dirname "$other")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    blas_lib="$other (linked as libcublas.so.12)"
  fi
fi
export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
note "libcuda: ${cuda_lib:-not found}"
note "cuBLAS: ILGPU.Algorithms looks for libcublas.so.12, .11, .10; found: ${blas_lib:-none}"
must devices 60 "$qnn" bench gpu --list
cat "$out/devices.out"
if grep -q '^Cuda device' "$out/devices.out" && ! grep -q 'accelerator does not open' "$out/devices.out"; then
  gpu=1; accel=cuda
  note "GPU: $(sed -n 's/^Cuda device: //p' "$out/devices.out" | head -1), opened by ILGPU"
else
  gpu=0; accel=cpu
  note "NO GPU: ILGPU opens no CUDA device here; every GPU step runs on ILGPU's CPU accelerator with small sizes, so no figure below is a GPU figure"
  grep -q 'accelerator does not open' "$out/devices.out" && note "ILGPU: $(grep 'accelerator does not open' "$out/devices.out" | head -1 | sed 's/^ *//')"
fi

# Sizes: the paper's on a GPU, small ones on the CPU accelerator, tiny ones for --quick.
if ((quick)); then
  limit="${QNN_CHECK_LIMIT:-20}"; kernels=xnor3,xnor1,float
  mlp=(--arch mlp-micro --epochs 1 --train-limit 1000 --validation 200)
elif ((gpu)); then
  limit="${QNN_CHECK_LIMIT:-10000}"; kernels=xnor3,xnor2,xnor1,float,cublas; gemm=1024,4096,8192; batch=1000
  mlp=(--arch mlp --width 1024 --epochs 3); conv=(--arch conv --epochs 2); mlp_paper=(--arch mlp --width 4096 --epochs 1)
  torch_args=(--width 1024 --epochs 3 --gemm 1024,4096,8192)
else
  limit="${QNN_CHECK_LIMIT:-200}"; kernels=xnor3,xnor2,xnor1,float; gemm=128,256; batch=32
  mlp=(--arch mlp-micro --epochs 1 --train-limit 2000 --validation 500)
  conv=(--arch conv --width 8 --epochs 1 --train-limit 1000 --validation 200); mlp_paper=()
  torch_args=(--width 256 --epochs 1 --train-limit 2000 --gemm 256)
fi

# train NAME ARGS...: one qnn train run with its JSON summary in $out/NAME.out; one summary line.
train() {
  local name=$1 cap=$2; shift 2
  if step "$name" "$cap" "$qnn" train --dataset "$data" --seed 1 --out "$out/$name.qnn" --json "$@"; then
    note "$(printf '%-26s %8.0f samples/s  deployed %s  float %s  model id %s' "$name" \
      "$(json_field "$out/$name.out" samplesPerSecond)" "$(percent "$(json_field "$out/$name.out" testAccuracy)")" \
      "$(percent "$(json_field "$out/$name.out" floatAccuracy)")" "$(json_field "$out/$name.out" modelId)")"
  else
    local rc=$?
    ((rc == 125)) || fail "$name: qnn train exited $rc (see $name.err)"
    return 1
  fi
}
# same_bits A B: whether two runs exported the same model (same id), as the backends' parity tests promise.
same_bits() {
  local a b; a="$(json_field "$out/$1.out" modelId 2>/dev/null)"; b="$(json_field "$out/$2.out" modelId 2>/dev/null)"
  [[ -n "$a" && -n "$b" ]] || return 0
  if [[ "$a" == "$b" ]]; then note "$1 and $2: the same model id $a (bit-identical training)"
  else note "$1 and $2: different model ids ($a, $b): the backends' updates differ on this device"; fi
}

# 3. Verify: every runtime and kernel version against the portable interpreter.
if train mlp-cpu 150 "${mlp[@]}"; then
  model="$out/mlp-cpu.qnn"
  must verify 150 "$qnn" verify "$model" --dataset "$data" --limit "$limit" --accelerator "$accel" --kernel "$kernels" &&
    note "verify: $(grep -m1 '^identical' "$out/verify.out") ($accel, kernels $kernels)"
  grep -h 'skipping' "$out/verify.err" | while read -r line; do note "verify: $line"; done
fi
if ((quick)); then
  say "done (--quick) in $((SECONDS - started)) s, exit code $status; report in $report"
  exit $status
fi

# 4. The GPU benchmark: network per kernel version at batch 1 and the large batch, binary GEMMs.
if [[ -n "${model:-}" ]]; then
  for b in 1 "$batch"; do
    must "bench-network-batch$b" 90 "$qnn" bench gpu "$model" --accelerator "$accel" --dataset "$data" --batch "$b" \
      --validate 64 --min-seconds 0.3 --kernels "$kernels"
  done
fi
must bench-gemm 150 "$qnn" bench gpu --accelerator "$accel" --gemm "$gemm" --min-seconds 0.3 --kernels "$kernels"

# 5. Training on the GPU against the CPU trainer: same options, same seed. Without a GPU the ILGPU backend would run
# on the CPU accelerator, where one MNIST epoch of even a 400-sample, 64-unit MLP ran past 15 minutes (2026-12-01):
# its bits are checked against the CPU trainer by tests/Qnn.Trainer.Gpu.Tests instead, and only the CPU runs go here.
ilgpu_train() { if ((gpu)); then train "$@"; else note "$1: skipped, no GPU (ILGPU training on the CPU accelerator is for tests, not MNIST)"; fi; }
ilgpu_train mlp-gpu 120 "${mlp[@]}" --backend ilgpu --accelerator "$accel" && same_bits mlp-cpu mlp-gpu
ilgpu_train mlp-gpu-grad6 120 "${mlp[@]}" --backend ilgpu --accelerator "$accel" --grad-bits 6
train mlp-cpu-grad6 120 "${mlp[@]}" --grad-bits 6 && same_bits mlp-cpu-grad6 mlp-gpu-grad6
ilgpu_train conv-gpu 120 "${conv[@]}" --backend ilgpu --accelerator "$accel"
train conv-cpu 150 "${conv[@]}" && same_bits conv-cpu conv-gpu
((${#mlp_paper[@]})) && ilgpu_train mlp4096-gpu 150 "${mlp_paper[@]}" --backend ilgpu --accelerator "$accel"

# 6. The peers a GPU user would pick instead: PyTorch's float and straight-through binarized MLP, torch.mm.
if command -v python3 >/dev/null && python3 -c 'import torch' 2>/dev/null; then
  must pytorch 150 python3 "$root/bench/pytorch/baseline.py" --mnist "$kit/mnist" --json "$out/pytorch.json" "${torch_args[@]}" &&
    grep '^pytorch' "$out/pytorch.out" | while read -r line; do note "$line"; done
else
  note "pytorch: skipped, python3 has no torch here"
fi

say "done in $((SECONDS - started)) s, exit code $status"
echo "---- summary ($summary)"
cat "$summary"
exit $status
