"""Build the documentation site into ``site/`` (``make docs``).

1. API reference: one page per public module of ``qml_phys`` (mkdocstrings reads the
   docstrings), written to ``docs/_gen/reference/``;
2. the twelve tutorials, executed (``docs/tools/tutorials.py``), to ``docs/_gen/tutorials/``;
3. the tour report: ``results/tour`` (``make run``) copied to ``docs/_gen/tour/`` when it
   exists, else ``qml-phys tour --quick`` is run into it (``--no-tour`` leaves a page that
   says how to make it);
4. ``mkdocs build --strict`` (a broken link or reference fails the build).

``--quick`` runs the tutorials at reduced size and skips the tour (what the test in
``make test-slow`` does: tests/docs/test_site.py).
"""

from __future__ import annotations

import argparse
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GEN = DOCS / "_gen"

#: Modules left out of the reference: private ones and the command-line glue.
SKIP = ("qml_phys.cli.__main__",)


def public_modules() -> list[str]:
    """Every importable public module of the package, in order."""
    sys.path.insert(0, str(ROOT))
    import qml_phys

    names = ["qml_phys"]
    for info in pkgutil.walk_packages(qml_phys.__path__, "qml_phys."):
        if any(part.startswith("_") for part in info.name.split(".")) or info.name in SKIP:
            continue
        names.append(info.name)
    return sorted(names)


def write_reference() -> list[dict]:
    """One page per module; returns the nav entries."""
    ref = GEN / "reference"
    ref.mkdir(parents=True, exist_ok=True)
    nav = []
    for name in public_modules():
        page = ref / f"{name}.md"
        page.write_text(f"# `{name}`\n\n::: {name}\n", encoding="utf-8")
        nav.append({name: f"_gen/reference/{name}.md"})
    return nav


def write_tour(*, run_it: bool) -> None:
    """The tour report under ``_gen/tour`` and a page that links to it."""
    dest = GEN / "tour"
    shutil.rmtree(dest, ignore_errors=True)
    src = ROOT / "results" / "tour"
    have = False
    if (src / "index.html").exists():
        shutil.copytree(src, dest)
        have = True
    elif run_it:
        exe = Path(sys.executable).with_name("qml-phys")
        subprocess.run([str(exe), "tour", "--quick", "--out", str(dest)], check=False)
        have = (dest / "index.html").exists()
    text = "# The tour\n\n"
    if have:
        text += (
            "A small version of every capability, run on CPU simulators, with its numbers and "
            "plots: [open the tour report](tour/index.html).\n"
        )
    else:
        text += (
            "The tour report is made by `make run` (it writes `results/tour/index.html`); "
            "`make docs` then copies it into the site.\n"
        )
    (GEN / "tour.md").write_text(text, encoding="utf-8")


def write_cli() -> None:
    """Every ``qml-phys`` command's ``--help``, from the parser itself."""
    sys.path.insert(0, str(ROOT))
    from qml_phys.cli import build_parser

    parser = build_parser()
    lines = [
        "# Command line",
        "",
        "Every command takes `--json` and then prints one JSON object.",
        "",
    ]
    lines += ["```text", parser.format_help().rstrip(), "```", ""]
    areas = next(a for a in parser._actions if a.dest == "area")  # noqa: SLF001
    for name, sub in areas.choices.items():
        whats = [a for a in sub._actions if a.dest == "what"]  # noqa: SLF001
        commands = whats[0].choices.items() if whats else [(None, sub)]
        for what, p in commands:
            title = f"qml-phys {name}" + (f" {what}" if what else "")
            lines += [f"## `{title}`", "", "```text", p.format_help().rstrip(), "```", ""]
    (GEN / "cli.md").write_text("\n".join(lines), encoding="utf-8")


def write_benchmarks() -> None:
    """The benchmark tables, from ``benchmarks/README.md``."""
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    (GEN / "benchmarks.md").write_text(text, encoding="utf-8")


def write_mkdocs_yml(reference_nav: list[dict], tutorials: list[str]) -> Path:
    """The site configuration, with the generated pages in the navigation."""
    base = (DOCS / "mkdocs.base.yml").read_text(encoding="utf-8")
    nav = [
        {"Home": "index.md"},
        {
            "Guide": [
                {"Architecture": "guide/architecture.md"},
                {"Where is what": "guide/concepts.md"},
                {"Conventions": "guide/conventions.md"},
                {"Error bars": "guide/calibration.md"},
                {"Benchmarks": "_gen/benchmarks.md"},
                {"Command line": "_gen/cli.md"},
            ]
        },
        {
            "Tutorials": [
                {t.split("_", 1)[1].replace("_", " "): f"_gen/tutorials/{t}.md"} for t in tutorials
            ]
        },
        {"Tour": "_gen/tour.md"},
        {"API reference": reference_nav},
    ]
    path = ROOT / "mkdocs.yml"
    path.write_text(base + "\nnav: " + json.dumps(nav) + "\n", encoding="utf-8")
    return path


def main(argv=None) -> int:
    """Build the site (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced tutorials, no tour run")
    ap.add_argument("--site", default=str(ROOT / "site"), help="output folder")
    ap.add_argument("--no-tour", action="store_true", help="do not run the tour")
    args = ap.parse_args(argv)
    shutil.rmtree(GEN, ignore_errors=True)
    GEN.mkdir(parents=True)
    reference = write_reference()
    write_cli()
    write_benchmarks()
    sys.path.insert(0, str(DOCS / "tools"))
    import tutorials

    out = GEN / "tutorials"
    code = tutorials.main([str(out)] + (["--quick"] if args.quick else []))
    if code:
        print("docs: a tutorial failed (see its page)", file=sys.stderr)
        return code
    names = sorted(p.stem for p in out.glob("[0-9][0-9]_*.md"))
    write_tour(run_it=not (args.quick or args.no_tour))
    config = write_mkdocs_yml(reference, names)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    exe = Path(sys.executable).with_name("mkdocs")
    run = subprocess.run(
        [str(exe), "build", "--strict", "-f", str(config), "-d", args.site], env=env
    )
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
