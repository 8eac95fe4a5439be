#!/usr/bin/env bash
# Runs one benchmark command: bench/bench.sh COMMAND [--option value ...]   (bench/bench.sh help lists them)
# Builds the benchmark in Release first unless BENCH_NO_BUILD=1. Results: bench/results/; big files: bench/out/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$root/bench/MLNet.WeightSelection.Bench"
dll="$project/bin/Release/net10.0/MLNet.WeightSelection.Bench.dll"
if [[ "${BENCH_NO_BUILD:-0}" != 1 || ! -f "$dll" ]]; then
  dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
fi
cd "$root"
exec dotnet "$dll" "$@"
