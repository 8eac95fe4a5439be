#!/usr/bin/env bash
# Installs the ws tool from a local feed (made by pack-tool.sh) into a fresh folder outside the repository and runs it
# as a user would: ws --version, ws select on the golden ResNet teacher in tests/golden, and ws train for five epochs on
# three classes of the sample's Fashion-MNIST subset. Removes that folder at the end (--keep leaves it).
#
#   src/MLNet.WeightSelection.Cli/try-tool.sh [FEED] [--keep]      FEED defaults to artifacts/tool-feed
#
# Takes about a minute after the install (which copies ~500 MB of natives into the tool folder).
set -euo pipefail

cli_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$cli_dir/../.." && pwd)"
project="$cli_dir/MLNet.WeightSelection.Cli.csproj"
feed="$repo/artifacts/tool-feed"
keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    *) feed="$(cd "$arg" && pwd)" ;;
  esac
done

property() { dotnet msbuild "$project" -nologo -getProperty:"$1"; }
package_id="$(property PackageId)"
version="$(property Version)"
[[ -f "$feed/$package_id.$version.nupkg" ]] || {
  echo "try-tool.sh: error: $feed has no $package_id.$version.nupkg; run pack-tool.sh first." >&2
  exit 1
}

work="$(mktemp -d "${TMPDIR:-/tmp}/ws-try.XXXXXX")"
case "$work/" in "$repo"/*) echo "try-tool.sh: error: $work is inside the repository; set TMPDIR elsewhere." >&2; exit 1 ;; esac
if (( keep )); then echo "Keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
cd "$work"

step() { echo; echo "\$ $*"; "$@"; }

# A tool path of its own, so nothing installed globally is used or changed.
step dotnet tool install --tool-path "$work/tools" --add-source "$feed" "$package_id" --version "$version"
ws="$work/tools/ws"
step "$ws" --version

teacher_spec='{"family": "resnet", "block": "basic", "layers": [2, 2, 2, 2], "channels": [16, 32, 64, 128], "num_classes": 10}'
student_spec='{"family": "resnet", "block": "basic", "layers": [1, 1, 1, 1], "channels": [8, 16, 32, 64], "num_classes": 10}'
cp "$repo/tests/golden/resnet_basic_mini.teacher.safetensors" teacher.safetensors
step "$ws" select --teacher teacher.safetensors --teacher-spec "$teacher_spec" --student-spec "$student_spec" \
  --out student.safetensors --report report.json

# Three classes, 40 training and 20 test images each, copied out of the repository.
mini="$repo/samples/ImageClassification/data/fashion-mnist-mini"
for split_count in train:40 test:20; do
  split="${split_count%%:*}"; count="${split_count##*:}"
  for class in Bag Sneaker Trouser; do
    mkdir -p "data/$split/$class"
    # An array rather than "| head": with pipefail, head closing the pipe early would fail the script.
    mapfile -t images < <(find "$mini/$split/$class" -name '*.png' | sort)
    cp "${images[@]:0:count}" "data/$split/$class/"
  done
done
step "$ws" train --data data --teacher teacher.safetensors --teacher-arch "$teacher_spec" --student "$student_spec" \
  --epochs 5 --image-size 28 --batch-size 30 --out run
step ls -l student.safetensors report.json run
