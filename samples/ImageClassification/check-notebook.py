#!/usr/bin/env python3
"""Checks an executed Jupyter notebook: every code cell ran, none raised an error or wrote to stderr, and at least
--min-png cells show an inline PNG. Prints one line per problem, naming the cell, and exits 1 if there is any.

    python3 check-notebook.py EXECUTED.ipynb [--min-png N]

run-notebook.sh calls it on the copy that `jupyter nbconvert --execute --allow-errors` wrote.
"""
import argparse
import base64
import json
import sys

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def cell_name(index, cell):
    first = next((line.strip() for line in "".join(cell.get("source", "")).splitlines() if line.strip()), "(empty)")
    return f"code cell {index} (id {cell.get('id', '?')}, '{first[:60]}')"


def problems_of(cell, name):
    if cell.get("execution_count") is None:
        yield f"{name} did not run"
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "error":
            evalue = output.get("evalue", "").strip().splitlines()
            yield f"{name} failed: {output.get('ename', 'Error')}: {evalue[0] if evalue else ''}"
        elif kind == "stream" and output.get("name") == "stderr":
            text = "".join(output.get("text", "")).strip()
            yield f"{name} wrote to stderr: {text[:500]}"


def png_count(cell):
    count = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {}).get("image/png")
        if data is None:
            continue
        raw = base64.b64decode("".join(data) if isinstance(data, list) else data)
        if raw.startswith(PNG_SIGNATURE) and len(raw) > 1000:
            count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("--min-png", type=int, default=0, help="cells that must show an inline PNG (default 0)")
    args = parser.parse_args()

    with open(args.notebook, encoding="utf-8") as f:
        notebook = json.load(f)
    code_cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    if not code_cells:
        print(f"{args.notebook}: no code cells", file=sys.stderr)
        return 1

    problems = []
    cells_with_png = []
    for index, cell in enumerate(code_cells, start=1):
        name = cell_name(index, cell)
        problems.extend(problems_of(cell, name))
        if png_count(cell):
            cells_with_png.append(name)
    if len(cells_with_png) < args.min_png:
        problems.append(f"{len(cells_with_png)} cell(s) show an inline PNG, expected at least {args.min_png}")

    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        # Later cells usually fail because an earlier one did: point at the first.
        print(f"{args.notebook}: {len(problems)} problem(s); the first one listed is usually the cause", file=sys.stderr)
        return 1
    print(f"{args.notebook}: {len(code_cells)} code cells ran without errors; inline PNGs in: {', '.join(cells_with_png) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
