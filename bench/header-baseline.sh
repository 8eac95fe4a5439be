#!/usr/bin/env bash
# Builds `ws` as it was at a commit, for the safetensors-header benchmark's side-by-side runs:
#   bench/header-baseline.sh [COMMIT]      (default 9cc61a5: main before the header reader was rewritten)
# Extracts the commit into bench/out/baseline-COMMIT (git-ignored), builds its CLI in Release there and prints the
# path of its ws.dll, to pass as --baseline-ws.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
commit="${1:-9cc61a5}"
dir="$root/bench/out/baseline-$commit"
if [[ ! -f "$dir/src/MLNet.WeightSelection.Cli/bin/Release/net10.0/ws.dll" ]]; then
  rm -rf "$dir" && mkdir -p "$dir"
  git -C "$root" archive "$commit" | tar -x -C "$dir"
  dotnet build "$dir/src/MLNet.WeightSelection.Cli" -c Release --nologo -v quiet -clp:ErrorsOnly >&2
fi
echo "$dir/src/MLNet.WeightSelection.Cli/bin/Release/net10.0/ws.dll"
