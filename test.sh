#!/usr/bin/env bash
# The one test command (README and .ci/run): restore, fetch MNIST and the Brown corpus if they are not in the cache, build the whole
# solution in Release, run every test project without rebuilding, and end with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

dotnet restore Qnn.Edge.sln --nologo -v quiet
./qnn data fetch mnist          # checks the cached files' SHA-256; downloads only what is missing or wrong
./qnn data fetch brown          # the same for the Brown corpus (language models): its tarball's SHA-256 and prepared token file
# The fleet tests (tests/Qnn.Cli.Tests/FleetTests.cs) start a real Eclipse Mosquitto on a free loopback port: install
# it from the system's packages when it is missing and this runs as root with apt-get (as CI does); without it those
# tests say why and skip (and fail under CI=true).
if ! command -v mosquitto >/dev/null && [[ ! -x /usr/sbin/mosquitto ]] && [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends mosquitto >/dev/null 2>&1 ||
    { apt-get -qq update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends mosquitto >/dev/null 2>&1; } ||
    echo "test.sh: could not install mosquitto; the fleet tests will skip" >&2
  # The package may start the distribution's own broker (port 1883) where systemd runs: the tests start theirs,
  # so the one this script installed is stopped and not started again at boot.
  if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
    systemctl stop mosquitto >/dev/null 2>&1 || true
    systemctl disable mosquitto >/dev/null 2>&1 || true
  fi
fi
dotnet build Qnn.Edge.sln -c Release --no-restore --nologo -v quiet

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test Qnn.Edge.sln -c Release --no-build --nologo 2>&1 | tee "$log" || status=$?
# The fast path's exactness tests again in processes without AVX-512 and without AVX2 (the runtime then reports those
# ISAs unsupported; .NET 10 reads DOTNET_EnableAVX512, earlier ones DOTNET_EnableAVX512F): the kernels, the threshold
# emitter of 4 filters and the Vector<T> widths of the machines that lack them.
for isa in "DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0" "DOTNET_EnableAVX2=0"; do
  echo "fast-path exactness with $isa:"
  env $isa dotnet test tests/Qnn.Runtime.Edge.Tests -c Release --no-build --nologo \
    --filter "FullyQualifiedName~FastInterpreterTests|FullyQualifiedName~PopcountBlockTests|FullyQualifiedName~FastSequenceTests" 2>&1 | tee -a "$log" || status=$?
done

# Sum the "Passed!/Failed!  - Failed: N, Passed: N, ..." line that each test project prints.
read -r passed failed projects < <(sed -n 's/.*- Failed: *\([0-9]*\), Passed: *\([0-9]*\),.*/\2 \1/p' "$log" |
  awk '{ p += $1; f += $2; n++ } END { print p + 0, f + 0, n + 0 }')
echo "$passed passed, $failed failed ($projects test projects)"
if [[ $status -eq 0 && $projects -eq 0 ]]; then echo "test.sh: no test results were printed" >&2; status=1; fi
exit $status
