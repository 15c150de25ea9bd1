#!/usr/bin/env bash
# Proves here, before any GPU is lent, that the device check runs from the kit alone: runs
# runtime-gpu/bench/device-check.sh in a new network namespace (no interface but a down loopback: no network) and a
# new mount namespace in which the .NET installation, the NuGet caches and qnn's data cache are hidden under empty
# folders, with PATH=/usr/bin:/bin and an empty HOME. Without a GPU every GPU step runs on ILGPU's CPU accelerator.
#
# Usage: runtime-gpu/bench/prove-offline.sh [--build] [device-check.sh arguments, e.g. --quick --out DIR]
#   --build   build the kit first (runtime-gpu/bench/make-device-kit.sh), else use the kit as it is
#   KIT       the kit's folder (default .device-kit/)
# Needs root (unshare -n -m). Exit code: the device check's.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
kit="${KIT:-$root/.device-kit}"
if [[ "${1:-}" == "--build" ]]; then shift; "$root/runtime-gpu/bench/make-device-kit.sh" "$kit"; fi
[[ -f "$kit/MANIFEST.sha256" ]] || { echo "prove-offline: no kit in $kit (use --build)" >&2; exit 2; }
command -v unshare >/dev/null || { echo "prove-offline: unshare is missing (util-linux)" >&2; exit 2; }

dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet 2>/dev/null || echo /usr/share/dotnet/dotnet)")")"
home="$(mktemp -d "${TMPDIR:-/tmp}/qnn-offline-home.XXXXXX")"
trap 'rm -rf "$home"' EXIT
hide=()
for d in "$dotnet_root" /usr/share/dotnet /usr/lib/dotnet /opt/nuget "$HOME/.nuget" "$HOME/.dotnet" "$HOME/.cache" \
  "${QNN_DATA:-}" "${XDG_CACHE_HOME:-}"; do
  [[ -n "$d" && -d "$d" && " ${hide[*]} " != *" $d "* ]] && hide+=("$d")
done

# shellcheck disable=SC2016
export KIT_DIR="$kit"
exec unshare --net --mount --propagation private bash -c '
  set -e
  for d in "${@:4:$3}"; do mount -t tmpfs -o size=1m,mode=0555 qnn-hidden "$d"; done
  root=$1 home=$2 kit=$(readlink -f "$KIT_DIR")
  echo "prove-offline: network interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " ")(a new namespace); hidden under empty folders: ${*:4:$3}"
  shift $(( 3 + $3 ))
  if command -v dotnet >/dev/null && dotnet --list-sdks 2>/dev/null | grep -q .; then echo "prove-offline: a .NET SDK is still visible" >&2; exit 2; fi
  exec env -i PATH=/usr/bin:/bin HOME="$home" TMPDIR="$home" LANG=C.UTF-8 \
    ${QNN_CHECK_BUDGET:+QNN_CHECK_BUDGET=$QNN_CHECK_BUDGET} ${QNN_CHECK_LIMIT:+QNN_CHECK_LIMIT=$QNN_CHECK_LIMIT} \
    bash "$root/runtime-gpu/bench/device-check.sh" --kit "$kit" "$@"
' prove-offline "$root" "$home" "${#hide[@]}" "${hide[@]}" "$@"
