#!/usr/bin/env bash
# Executes ImageClassification.ipynb top to bottom, headless, with Jupyter and the .NET Interactive kernel, and fails
# (exit code 1, naming the cell) when any cell raised an error or wrote to stderr, or when the accuracy curves and the
# attention picture are not in the executed notebook as inline PNGs.
#
#   samples/ImageClassification/run-notebook.sh [output folder]
#
# What it needs and installs when missing: Jupyter's nbconvert, notebook and ipykernel (Debian's jupyter-nbconvert,
# python3-notebook, python3-ipykernel and jupyter-client, through apt-get when run as root; elsewhere it says what to
# install), the .NET Interactive tool (dotnet tool install -g Microsoft.dotnet-interactive) and its Jupyter kernel
# (dotnet interactive jupyter install). Then it builds the sample, which the notebook loads from bin/Release/net10.0.
#
# Settings (environment):
#   WS_NOTEBOOK_SHORT    1 (the default here): 100 training and 20 test images per class, 3 epochs at 32 px (the fitted
#                        teacher adaptation then takes 1 epoch). 0: the sample's full defaults (3,000 images, 6 epochs,
#                        the image size and the rest of the recipe fitted).
#   WS_NOTEBOOK_OUT      where the notebook writes model.zip, student.onnx and accuracy.png; set by this script to
#                        <output folder>/out.
#   PYTHON               the Python with Jupyter (default: /usr/bin/python3, Debian's, when present).
# The executed copy is <output folder>/ImageClassification.ipynb; the output folder defaults to a new temporary one.
# The committed notebook is never overwritten.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
notebook="$here/ImageClassification.ipynb"
output="${1:-$(mktemp -d "${TMPDIR:-/tmp}/ws-notebook.XXXXXX")}"
mkdir -p "$output"
output="$(cd "$output" && pwd)"
interactive_version=1.0.712001
export WS_NOTEBOOK_SHORT="${WS_NOTEBOOK_SHORT:-1}"
export WS_NOTEBOOK_OUT="$output/out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT=1
export PATH="$PATH:$HOME/.dotnet/tools"
if [ -z "${PYTHON:-}" ]; then
  if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi

step() { printf '\n== %s\n' "$*"; }

step "Jupyter ($PYTHON)"
if ! "$PYTHON" -c 'import nbconvert, nbclient, notebook, ipykernel, jupyter_client' 2>/dev/null \
   || ! command -v jupyter-kernelspec >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jupyter-nbconvert python3-notebook python3-ipykernel jupyter-client >/dev/null
  else
    echo "Jupyter is missing: install nbconvert, notebook, ipykernel and jupyter_client for $PYTHON" \
         "(Debian/Ubuntu: sudo apt-get install jupyter-nbconvert python3-notebook python3-ipykernel jupyter-client)." >&2
    exit 1
  fi
fi
"$PYTHON" -m nbconvert --version

step ".NET Interactive kernel"
# (The list is read whole first: grep -q closing the pipe early would fail the pipeline under pipefail.)
global_tools="$(dotnet tool list -g)"
if ! grep -qi '^microsoft\.dotnet-interactive ' <<<"$global_tools"; then
  dotnet tool install -g Microsoft.dotnet-interactive --version "$interactive_version"
fi
if ! "$PYTHON" -c 'import sys; from jupyter_client.kernelspec import find_kernel_specs; sys.exit(".net-csharp" not in find_kernel_specs())'; then
  dotnet interactive jupyter install
fi
dotnet interactive --version

step "Build the sample (the notebook loads bin/Release/net10.0)"
dotnet build "$here/ImageClassification.csproj" -c Release -nologo -v q

step "Execute the notebook (WS_NOTEBOOK_SHORT=$WS_NOTEBOOK_SHORT) into $output"
# --allow-errors: every cell runs, so the check below can name each failing one (the first is usually the cause).
"$PYTHON" -m nbconvert --to notebook --execute --allow-errors \
  --ExecutePreprocessor.kernel_name=.net-csharp \
  --ExecutePreprocessor.startup_timeout=300 \
  --ExecutePreprocessor.timeout="${WS_NOTEBOOK_CELL_TIMEOUT:-1800}" \
  --output-dir "$output" --output ImageClassification.ipynb "$notebook"

step "Check the executed notebook"
"$PYTHON" "$here/check-notebook.py" "$output/ImageClassification.ipynb" --min-png 2
