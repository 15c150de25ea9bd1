#!/usr/bin/env bash
# The one test command (README and .ci/run): restore, fetch MNIST if it is not in the cache, build the whole
# solution in Release, run every test project without rebuilding, and end with one "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

dotnet restore Qnn.Edge.sln --nologo -v quiet
./qnn data fetch mnist          # checks the cached files' SHA-256; downloads only what is missing or wrong
dotnet build Qnn.Edge.sln -c Release --no-restore --nologo -v quiet

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
dotnet test Qnn.Edge.sln -c Release --no-build --nologo --logger trx --results-directory "$results" || status=$?

# Sum the counters of every project's TRX report.
passed=0; failed=0; reports=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); reports=$((reports + 1))
done
echo "$passed passed, $failed failed ($reports test projects)"
if [[ $status -eq 0 && $reports -eq 0 ]]; then echo "no test results were written" >&2; status=1; fi
exit $status
