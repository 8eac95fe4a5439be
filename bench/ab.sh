#!/usr/bin/env bash
# A/B of the library on one benchmark command:  bench/ab.sh REV N COMMAND [--option value ...]
# Builds the benchmark twice, with the library (src/) as of git revision REV and as in the working tree, the
# benchmark's own code being the working tree's in both, then runs COMMAND with each build in turn, N times,
# alternating, with the load average before every run. Builds go to bench/out/ab/ (git-ignored). Print only:
# keep what you quote, e.g.  bench/ab.sh 83376f9 4 throughput --rounds 1 --conv onednn | tee bench/results/ab_x.txt
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rev="$(git -C "$root" rev-parse --short "$1")"; runs="$2"; shift 2
out="$root/bench/out/ab"
before="$out/$rev"
mkdir -p "$out"
if [[ ! -f "$before/bin/MLNet.WeightSelection.Bench.dll" ]]; then
  rm -rf "$before"
  git -C "$root" worktree add --detach -q "$before/src-tree" HEAD
  trap 'git -C "$root" worktree remove --force "$before/src-tree" 2>/dev/null || true' EXIT
  # The working tree's benchmark and tests, the library of $rev.
  (cd "$root" && git diff HEAD -- bench) | (cd "$before/src-tree" && git apply --allow-empty)
  git -C "$before/src-tree" checkout -q "$rev" -- src
  dotnet build "$before/src-tree/bench/MLNet.WeightSelection.Bench" -c Release -o "$before/bin" --nologo -v quiet -clp:ErrorsOnly >&2
fi
after="$out/working-tree"
rm -rf "$after"
dotnet build "$root/bench/MLNet.WeightSelection.Bench" -c Release -o "$after" --nologo -v quiet -clp:ErrorsOnly >&2
echo "A/B: library at $rev (before) vs the working tree (after); command: $*"
cd "$root"
for i in $(seq 1 "$runs"); do
  for side in before after; do
    dll="$before/bin"; [[ $side == after ]] && dll="$after"
    echo "=== $side run $i $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
    dotnet "$dll/MLNet.WeightSelection.Bench.dll" "$@" 2>&1
  done
done
