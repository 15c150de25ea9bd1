#!/usr/bin/env bash
# Checks on an x64 machine that the ARM64 build (what a Raspberry Pi runs) gives the same integers as the x64 build:
# publishes the qnn CLI self-contained for linux-arm64, runs `qnn verify MODEL --runtimes portable,fast` under QEMU's
# user-mode emulator and natively, and compares the XxHash64 digests of every score of every sample.
#
#   devices/raspberry-pi/arm64-check.sh MODEL.qnn [SAMPLES [MODEL.qnn ...]]   # SAMPLES: MNIST test images, default 1000
#
# Every model is checked with the one published build; ./test.sh runs it on a trained mlp-micro and conv model
# (300 images each). AdvSimd is part of every ARM64 core, so the fast path runs its AdvSimd kernel there.
#
# Needs (Debian): dpkg --add-architecture arm64 && apt-get update &&
#                 apt-get install qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64
# Emulation checks correctness only: its times say nothing about a Pi's speed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:?usage: arm64-check.sh MODEL.qnn [SAMPLES [MODEL.qnn ...]]}"
samples="${2:-1000}"
models=("$model" "${@:3}")
for m in "${models[@]}"; do [[ -f "$m" ]] || { echo "arm64-check: $m: no such file" >&2; exit 1; }; done
if ! command -v qemu-aarch64-static >/dev/null || [[ ! -e /lib/ld-linux-aarch64.so.1 ]]; then
  echo "arm64-check: needs qemu-aarch64-static and the arm64 C library; on Debian:" >&2
  echo "  dpkg --add-architecture arm64 && apt-get update && apt-get install qemu-user-static libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64" >&2
  exit 1
fi

out="$root/.qnn-build/arm64"
echo "publishing qnn for linux-arm64 into $out"
dotnet publish "$root/cli/Qnn.Cli/Qnn.Cli.csproj" -c Release -r linux-arm64 --self-contained -o "$out" --nologo -v quiet >/dev/null

digest() {  # each runtime's mismatch count and digest, from the JSON report
  grep -oE '"(runtime|mismatches|digest)": ("[^"]*"|[0-9]+)' | sed -E 's/"([a-z]+)": "?([^"]*)"?/\1=\2/' | paste -sd' '
}
status=0
for model in "${models[@]}"; do
  echo "$model, x64 (native):"
  native="$("$root/qnn" verify "$model" --dataset mnist --runtimes portable,fast --limit "$samples" --json | digest)"
  echo "  $native"
  echo "$model, arm64 (qemu-aarch64-static):"
  # .NET's JIT maps code pages writable then executable; QEMU's user mode handles that only without W^X.
  emulated="$(DOTNET_EnableWriteXorExecute=0 qemu-aarch64-static -L / "$out/qnn" verify "$model" --dataset mnist \
    --runtimes portable,fast --limit "$samples" --json | digest)"
  echo "  $emulated"
  if [[ -n "$native" && "$native" == "$emulated" ]]; then
    echo "identical: portable and fast give the same digest of $samples samples' scores on x64 and on arm64"
  else
    echo "arm64-check: $model: the digests differ" >&2
    status=1
  fi
done
exit $status
