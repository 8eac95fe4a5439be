#!/usr/bin/env bash
# Runs one benchmark command: bench/bench.sh COMMAND [--option value ...]   (bench/bench.sh help lists them)
# Builds the benchmark in Release first unless BENCH_NO_BUILD=1, then runs a snapshot of the build output
# (bench/out/bin/<hash>), so that rebuilding while a long run is going cannot change the files it runs from.
# Results: bench/results/; big files: bench/out/ (git-ignored).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="$root/bench/MLNet.WeightSelection.Bench"
build="$project/bin/Release/net10.0"
if [[ "${BENCH_NO_BUILD:-0}" != 1 || ! -f "$build/MLNet.WeightSelection.Bench.dll" ]]; then
  dotnet build "$project" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
fi
hash="$(cat "$build"/MLNet.WeightSelection*.dll | md5sum | cut -c1-12)"
snapshot="$root/bench/out/bin/$hash"
if [[ ! -f "$snapshot/MLNet.WeightSelection.Bench.dll" ]]; then
  mkdir -p "$root/bench/out/bin"
  rm -rf "$snapshot.tmp" && cp -r "$build" "$snapshot.tmp" && mv "$snapshot.tmp" "$snapshot"
fi
# A snapshot is about 1.7 GB: keep the 3 newest and any that a running process uses.
for old in $(ls -t "$root/bench/out/bin" | tail -n +4); do
  grep -qsa "bench/out/bin/$old/" /proc/[0-9]*/cmdline || rm -rf "$root/bench/out/bin/$old"
done
cd "$root"
exec dotnet "$snapshot/MLNet.WeightSelection.Bench.dll" "$@"
