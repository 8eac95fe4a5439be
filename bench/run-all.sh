#!/usr/bin/env bash
# Reruns every figure of docs/benchmarks.md (sections 1-3) and docs/results.md (section 4) from a fresh clone.
#
# SLOWEST PART: `vit-narrow` — pretraining the embed-96 ViT teacher on 30,000 Fashion-MNIST images took 29 min (5 epochs)
# on an idle 2-core machine, and its students and linear probes about 40 minutes more. It is resumable: run the same command again and it
# continues from the last finished epoch. `vit` (the full-width pair, 30 epochs) takes many hours and is not in the
# default list. The defaults together took about two hours on an idle 2-core machine; on a shared machine, longer.
#
# Usage: bench/run-all.sh [PART ...]       PART: selection throughput inference header resnet resnet-full vit-narrow vit
#        bench/run-all.sh                  runs selection throughput inference header resnet resnet-full vit-narrow (what docs/ reports)
# Needs: the .NET 10 SDK; Debian's python3-torch (/usr/bin/python3) and dataset-fashion-mnist, installed below when
# missing (apt-get, as root). Results: bench/results/*.json|md (committed); big files: bench/out/ (git-ignored).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ensure_apt() {  # package, file that proves it is installed
  if [[ ! -e "$2" ]]; then
    echo "Installing $1 (apt-get) ..." >&2
    apt-get update -qq && apt-get install -y -qq "$1"
  fi
}
ensure_apt python3-torch /usr/lib/python3/dist-packages/torch/__init__.py
ensure_apt dataset-fashion-mnist /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

dotnet build bench/MLNet.WeightSelection.Bench -c Release --nologo -v quiet -clp:ErrorsOnly
export BENCH_NO_BUILD=1
run() { echo "== bench/bench.sh $*" >&2; bench/bench.sh "$@"; }

part() {
  case "$1" in
    selection)   run selection --rounds 3 ;;
    throughput)  run throughput --rounds 2 --steps 10 --trainer-steps 10 ;;
    inference)   run inference --rounds 3 ;;
    header)      dotnet build src/MLNet.WeightSelection.Cli -c Release --nologo -v quiet -clp:ErrorsOnly
                 run safetensors-header --rounds 3 --baseline-ws "$(bench/header-baseline.sh 9cc61a5)" --baseline-name "main 9cc61a5" ;;
    resnet)      run fmnist-resnet --sizes 1000,5000 --seeds 1,2,3 --epochs 1000:30,5000:10 ;;
    resnet-full) run fmnist-resnet --sizes 60000 --seeds 1 --epochs 60000:5 ;;
    vit-narrow)  run vit-pretrain --embed 96 --epochs 5
                 run vit-transfer --teacher-embed 96 --student-embed 48 --sizes 250,1000 --depths 12,6 --seeds 1,2,3 --epochs 250:40,1000:20 --probe ;;
    vit)         run vit-pretrain --embed 192 --epochs 30
                 run vit-transfer --teacher-embed 192 --student-embed 96 --sizes 250,1000 --depths 12,6 --seeds 1,2,3 --epochs 250:100,1000:50 --probe ;;
    *) echo "Unknown part '$1'. Parts: selection throughput inference header resnet resnet-full vit-narrow vit" >&2; exit 2 ;;
  esac
}

if [[ $# -eq 0 ]]; then set -- selection throughput inference header resnet resnet-full vit-narrow; fi
for p in "$@"; do part "$p"; done
