"""Run the course's tutorials and turn them into pages of the documentation site.

A tutorial is a jupytext "percent" script (``docs/tutorials/NN_name.py``): cells begin with
``# %%`` (code) or ``# %% [markdown]`` (text, every line commented with ``# ``). It opens as
a notebook in Jupyter (``jupytext --to notebook``) and diffs as code.

``python docs/tools/tutorials.py OUT [--quick] [--only NAME ...]`` executes every tutorial
in one namespace per tutorial, cell by cell, with matplotlib's Agg backend; after each code
cell the open figures are saved as PNG next to the page and embedded, and what the cell
printed is shown under it. It writes ``OUT/NN_name.md`` and ``OUT/timings.json``.
``--quick`` (or ``QML_PHYS_TUTORIAL_QUICK=1``) asks every tutorial to run at reduced size
(each reads ``QUICK`` from that variable), which is what ``make test-slow`` does to keep them
from rotting.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
TUTORIALS = HERE.parent / "tutorials"


def cells(source: str) -> list[tuple[str, str]]:
    """``[(kind, text), ...]`` of a percent script: kind ``"code"`` or ``"markdown"``."""
    out: list[tuple[str, list[str]]] = []
    kind, lines = "code", []
    for line in source.splitlines():
        m = re.match(r"^# %%(.*)$", line)
        if m:
            if lines and any(x.strip() for x in lines):
                out.append((kind, lines))
            kind = "markdown" if "[markdown]" in m.group(1) else "code"
            lines = []
            continue
        lines.append(line)
    if lines and any(x.strip() for x in lines):
        out.append((kind, lines))
    result = []
    for kind, lines in out:
        if kind == "markdown":
            text = "\n".join(re.sub(r"^# ?", "", x) for x in lines)
        else:
            text = "\n".join(lines).strip("\n")
        result.append((kind, text.strip("\n")))
    if result and result[0][0] == "code" and result[0][1].startswith("# ---"):
        result = result[1:]  # jupytext header
    return result


def run(path: Path, out: Path, *, quick: bool) -> dict:
    """Execute one tutorial; write its page and figures; return timings and status."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    os.environ["QML_PHYS_TUTORIAL_QUICK"] = "1" if quick else "0"
    os.environ.setdefault("QML_PHYS_NO_PROGRESS", "1")
    name = path.stem
    images = out / f"{name}_files"
    images.mkdir(parents=True, exist_ok=True)
    namespace: dict = {"__name__": "__main__", "__file__": str(path)}
    page: list[str] = []
    n_fig = 0
    t0 = time.perf_counter()
    error = None
    for i, (kind, text) in enumerate(cells(path.read_text(encoding="utf-8"))):
        if kind == "markdown":
            page.append(text + "\n")
            continue
        page.append(f"```python\n{text}\n```\n")
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(text, f"{path.name}[cell {i}]", "exec"), namespace)  # noqa: S102
        except Exception:  # the page shows the failure; the build reports it
            error = traceback.format_exc()
        printed = buffer.getvalue().rstrip()
        if printed:
            page.append("```text\n" + printed + "\n```\n")
        for num in plt.get_fignums():
            fig = plt.figure(num)
            n_fig += 1
            png = images / f"fig{n_fig}.png"
            fig.savefig(png, dpi=110, bbox_inches="tight")
            page.append(f"![figure {n_fig}]({images.name}/{png.name})\n")
        plt.close("all")
        if error:
            page.append("```text\n" + error + "\n```\n")
            break
    seconds = time.perf_counter() - t0
    (out / f"{name}.md").write_text("\n".join(page), encoding="utf-8")
    return {"seconds": round(seconds, 2), "figures": n_fig, "error": error}


def main(argv=None) -> int:
    """Run the tutorials (see the module docstring); exit 1 if one fails."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder for the pages")
    ap.add_argument("--quick", action="store_true", help="reduced sizes (as in make test-slow)")
    ap.add_argument("--only", nargs="*", default=None, help="tutorial names (stems)")
    args = ap.parse_args(argv)
    quick = args.quick or os.environ.get("QML_PHYS_TUTORIAL_QUICK") == "1"
    args.out.mkdir(parents=True, exist_ok=True)
    paths = sorted(TUTORIALS.glob("[0-9][0-9]_*.py"))
    if args.only:
        paths = [p for p in paths if p.stem in args.only]
    timings = {}
    for p in paths:
        timings[p.stem] = run(p, args.out, quick=quick)
        status = "FAILED" if timings[p.stem]["error"] else "ok"
        print(f"{p.stem}: {status} in {timings[p.stem]['seconds']:.1f} s", file=sys.stderr)
    (args.out / "timings.json").write_text(json.dumps(timings, indent=2), encoding="utf-8")
    return 1 if any(t["error"] for t in timings.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
