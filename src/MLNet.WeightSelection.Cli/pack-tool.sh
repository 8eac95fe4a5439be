#!/usr/bin/env bash
# Packs the ws tool into a local NuGet feed folder as RID-specific tool packages: one small pointer package
# (MLNet.WeightSelection.Cli) and one package per platform (MLNet.WeightSelection.Cli.<rid>). Lists every package with
# its size and fails, leaving the feed as it was, when a package is missing or not below nuget.org's 250 MB limit.
#
#   src/MLNet.WeightSelection.Cli/pack-tool.sh [FEED]      FEED defaults to artifacts/tool-feed in the repository
#
# Takes about 5 minutes on 2 cores (three publishes, ~340 MB of compression). Install from the feed with
# src/MLNet.WeightSelection.Cli/try-tool.sh, or: dotnet tool install -g --add-source FEED MLNet.WeightSelection.Cli
set -euo pipefail

cli_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$cli_dir/../.." && pwd)"
project="$cli_dir/MLNet.WeightSelection.Cli.csproj"
feed="${1:-$repo/artifacts/tool-feed}"
# nuget.org refuses packages over 250 MB; count a megabyte as 10^6 bytes so the check errs on the safe side.
# WS_PACK_LIMIT_BYTES lowers it, to see the refusal without a package that large.
limit_bytes="${WS_PACK_LIMIT_BYTES:-250000000}"

property() { dotnet msbuild "$project" -nologo -getProperty:"$1"; }
package_id="$(property PackageId)"
version="$(property Version)"
rids="$(property ToolPackageRuntimeIdentifiers)"

staging="$(mktemp -d "${TMPDIR:-/tmp}/ws-pack.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

echo "Packing $package_id $version for ${rids//;/, } ..."
dotnet pack "$project" -c Release -o "$staging" -nologo

expected=("$package_id.$version.nupkg")
IFS=';' read -r -a rid_list <<< "$rids"
for rid in "${rid_list[@]}"; do expected+=("$package_id.$rid.$version.nupkg"); done

failed=0
printf '\n%-50s %15s %10s\n' package bytes MB
for name in "${expected[@]}"; do
  file="$staging/$name"
  if [[ ! -f "$file" ]]; then
    printf '%-50s %15s\n' "$name" MISSING
    failed=1
    continue
  fi
  bytes="$(stat -c %s "$file")"
  verdict=""
  if (( bytes >= limit_bytes )); then verdict="  TOO LARGE (limit $limit_bytes bytes)"; failed=1; fi
  printf '%-50s %15d %10s%s\n' "$name" "$bytes" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" "$verdict"
done
for file in "$staging"/*.nupkg; do
  name="$(basename "$file")"
  if [[ ! " ${expected[*]} " == *" $name "* ]]; then
    printf '%-50s unexpected package\n' "$name"
    failed=1
  fi
done

if (( failed )); then
  echo "pack-tool.sh: error: a package is missing, unexpected or not below $limit_bytes bytes; $feed left as it was." >&2
  exit 1
fi

mkdir -p "$feed"
mv -f "$staging"/*.nupkg "$feed"/
echo
echo "Feed: $feed"
echo "Install: dotnet tool install -g --add-source $feed $package_id --version $version"
