"""The ``qml-phys`` command line.

Subcommands are grouped by area (``qml-phys exact ...``, ``qml-phys ising ...``,
``qml-phys tour``), one module of this package per area. Every subcommand takes
``--json`` and then prints exactly one JSON object on stdout (progress and messages go to
stderr). Bad input exits with status 2 and a message naming what was expected and what
was given.

A command parses its arguments, calls one library function, and hands the result to
:mod:`qml_phys.runtime` to print and save. The area modules import only the standard
library at import time (the heavy work is imported inside the command functions), so
``qml-phys --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

from qml_phys.errors import QmlPhysError

__all__ = ["build_parser", "emit", "main"]


def emit(result: dict, as_json: bool, stream=None) -> None:
    """Print ``result`` as one JSON object (``--json``) or as readable ``key: value`` lines."""
    from qml_phys.runtime.records import to_jsonable

    stream = stream or sys.stdout
    data = to_jsonable(result)
    if as_json:
        stream.write(json.dumps(data, allow_nan=False) + "\n")
        return
    for k, v in data.items():
        if isinstance(v, float):
            v = f"{v:.12g}"
        elif isinstance(v, (list, dict)):
            v = json.dumps(v)
            if len(v) > 200:
                v = v[:197] + "..."
        stream.write(f"{k}: {v}\n")


def _add(sub, name: str, func: Callable, help: str) -> argparse.ArgumentParser:
    """A subcommand ``name`` of ``sub`` that takes ``--json`` and calls ``func(args) -> dict``."""
    p = sub.add_parser(name, help=help, description=help)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The full ``qml-phys`` parser: every area module's ``register(areas, add)``, in order."""
    from qml_phys.cli import circuits, exact, generative, ising, learning, nqs, phases, tour

    parser = argparse.ArgumentParser(
        prog="qml-phys",
        description="Machine learning in physics: exact references, Monte Carlo, generative "
        "models, neural quantum states, variational circuits, the tour.",
    )
    areas = parser.add_subparsers(dest="area", metavar="AREA")
    areas.required = True
    for area in (exact, ising, circuits, phases, generative, nqs, learning, tour):
        area.register(areas, _add)
    return parser


#: Commands that save their progress under ``--out`` as they go and resume it when rerun
#: with the same arguments (the others start over).
RESUMABLE = {
    ("ising", "dataset"),
    ("ising", "scan"),
    ("nqs", "ground-state"),
    ("generative", "train"),
    ("generative", "van"),
    ("generative", "flow-phi4"),
}


def _interrupted(args) -> str:
    """What an interrupted command kept, and how to go on (printed on Ctrl-C)."""
    command = (args.area, getattr(args, "what", None))
    name = " ".join(c for c in command if c)
    out = getattr(args, "out", None)
    if command in RESUMABLE and out:
        return (
            f"qml-phys {name}: interrupted; the work finished so far is saved under {out}; "
            "rerun the same command to resume from it"
        )
    if command in RESUMABLE:
        return (
            f"qml-phys {name}: interrupted; nothing was saved (no --out was given); give --out "
            "DIR to make the run resumable"
        )
    return f"qml-phys {name}: interrupted; nothing was saved (this command does not resume)"


def _too_large(err: BaseException) -> str:
    """The message for a job that a size made impossible (memory, or a number past what a
    machine integer or float holds)."""
    what = type(err).__name__
    return (
        f"the requested sizes are too large for this machine ({what}: {err or 'no detail'}); "
        "choose smaller sizes or counts"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``qml-phys``; return the exit status (0 ok, 1 a check failed, 2 bad input,
    130 interrupted)."""
    # NetKet switches float64 on for the whole process when it is imported, which would make
    # every later float32 computation (Monte Carlo, training) depend on whether an NQS
    # command or tour section ran before it; NetKet's own work here runs under
    # runtime.precision.float64() anyway. Set NETKET_ENABLE_X64=1 to have NetKet's default.
    os.environ.setdefault("NETKET_ENABLE_X64", "0")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except QmlPhysError as err:
        print(f"qml-phys: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # an unreadable input or unwritable output path
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        print(f"qml-phys: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_interrupted(args), file=sys.stderr)
        return 130
    except (MemoryError, OverflowError) as err:  # past a pre-flight check: still no traceback
        print(f"qml-phys: error: {_too_large(err)}", file=sys.stderr)
        return 2
    except ValueError as err:
        if "Maximum allowed size exceeded" not in str(err):  # numpy's array-size limit
            raise
        print(f"qml-phys: error: {_too_large(err)}", file=sys.stderr)
        return 2
    try:
        emit(result, args.json)
    except BrokenPipeError:  # the reader went away (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 0
    if result.get("ok") is False:  # e.g. a tour section failed or missed its exact check
        print("qml-phys: some checks failed; see the output above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
