#!/usr/bin/env bash
# The hand-off to PyTorch (docs/scale.md), checked end to end for one teacher → student pair per family:
#   1. a random-weight teacher in timm's names (bench make-teacher),
#   2. `ws select --with-classifier` writes the student's state dict,
#   3. TorchSharp's logits of that student on a fixed batch (bench torchsharp-logits),
#   4. timm's own model loads the file strictly and gives the same logits (bench/python/timm_handoff.py),
#   5. the same file trains under torchrun with DistributedDataParallel (2 processes, gloo, CPU) and ends where one
#      process on the whole batch ends.
# Needs Debian's python3-torch and python3-torchvision, and timm's source: TIMM_SOURCE (default /tmp/timm; the golden
# vectors' commit is in tests/golden/README.md). Writes bench/results/timm_handoff.md; files go to bench/out/handoff.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
timm="${TIMM_SOURCE:-/tmp/timm}"
[[ -f "$timm/timm/__init__.py" ]] || { echo "timm's source not found at '$timm' (set TIMM_SOURCE)" >&2; exit 2; }
cd "$root"
dotnet build src/MLNet.WeightSelection.Cli -c Release --nologo -v quiet -clp:ErrorsOnly >&2
ws=(dotnet src/MLNet.WeightSelection.Cli/bin/Release/net10.0/ws.dll)
out="$root/bench/out/handoff"
mkdir -p "$out"
py() { PYTHONPATH="$timm" OMP_NUM_THREADS=1 "$@"; }
result() { grep '^RESULT ' | sed 's/^RESULT //'; }
field() { /usr/bin/python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }

rows=()
while read -r teacher student size; do
  dir="$out/$student"
  mkdir -p "$dir"
  bench/bench.sh make-teacher --model "$teacher" --out "$dir/teacher.safetensors" >/dev/null
  "${ws[@]}" select --teacher "$dir/teacher.safetensors" --student-spec "$student" --with-classifier --num-classes 10 \
    --out "$dir/student.safetensors" >/dev/null
  BENCH_NO_BUILD=1 bench/bench.sh torchsharp-logits --model "$student" --num-classes 10 --image-size "$size" \
    --weights "$dir/student.safetensors" --out "$dir/io.safetensors" >/dev/null
  parity="$(py /usr/bin/python3 bench/python/timm_handoff.py --dir "$dir" --model "$student" --image-size "$size" | result)"
  # torchrun of PyTorch 1.13 on Python 3.11 cannot parse its default --redirects/--tee of 0; 1 (stdout) works.
  ddp="$(py torchrun --nproc_per_node=2 --redirects 1 --tee 1 --log_dir "$dir/torchrun-logs" \
    bench/python/timm_handoff.py --ddp --dir "$dir" --model "$student" --image-size "$size" 2>/dev/null | sed 's/^\[[^]]*\]:*//' | result)"
  echo "$student parity: $parity" >&2
  echo "$student ddp: $ddp" >&2
  rows+=("| $teacher → $student | $size | $(field "$parity" max_abs_logit) | $(field "$parity" max_abs_diff) | $(field "$parity" ok) | $(field "$ddp" ranks_max_abs_diff) | $(field "$ddp" ddp_vs_single_max_abs_diff) | $(field "$ddp" ok) |")
done <<'PAIRS'
vit_small_patch16_224 vit_tiny_patch16_224 224
convnext_nano convnext_atto 64
resnet50 resnet26 64
PAIRS

{
  echo "# Hand-off to PyTorch: ws select → timm → torchrun"
  echo
  echo "Command: \`bench/timm-handoff.sh\`; $(date -u +%Y-%m-%dT%H:%MZ); load $(cut -d' ' -f1-3 /proc/loadavg); timm $(git -C "$timm" rev-parse --short HEAD 2>/dev/null || echo '?'), PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')."
  echo
  echo "Random-weight teachers; \`ws select --with-classifier --num-classes 10\` writes each student. Parity: timm's model of the"
  echo "same name loads the file strictly; largest logit difference from TorchSharp on 2 fixed images (tolerance 1e-4)."
  echo "DDP: 2 processes under torchrun (gloo, CPU), 3 SGD steps on halves of a batch, against one process on the whole batch."
  echo
  echo "| teacher → student | image size | largest logit | max abs logit diff | parity ok | ranks differ by | DDP vs one process | DDP ok |"
  echo "|---|---:|---:|---:|---|---:|---:|---|"
  printf '%s\n' "${rows[@]}"
} > bench/results/timm_handoff.md
cat bench/results/timm_handoff.md
