"""Fuzz every ``qml-phys`` subcommand: each flag in turn gets random, extreme and malformed
values (the rest of the command line is a small valid one), and the command must end with
exit status 0 or 2 and a message, never a Python traceback, a crash or a hang.

The fast suite runs a fixed sample of the cases (seeded, so a failure reproduces);
``make test-slow`` runs them all. The command lines run in a subprocess
(``fuzz_runner.py``), so a crash or a memory blow-up cannot take the test process with it.

The largest accepted value (2**31 - 1) of a flag that only counts iterations
(:data:`WORK_FLAGS`) asks for hours of legitimate work; those cases are not run (a compiled
loop cannot be interrupted by the runner's alarm). For every other flag, that value must be
answered at once: sizes that cannot fit in memory are refused before the work starts. A
run still working when its time is up fails.
"""

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from qml_phys.cli import args as A
from qml_phys.cli import build_parser

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

MAX_INT = str(A.MAX_INT)
BAD_INTS = [
    "-5",
    "1.5",
    "nan",
    "inf",
    "abc",
    "",
    "1e400",
    "99999999999999999999999999",
    "0x10",
    MAX_INT,
]
#: Replaced by the runner with a new path for each command line (outputs that must not exist).
FRESH = "@FRESH@"
#: Flags that count iterations: their largest value asks for hours of work, not memory.
WORK_FLAGS = {
    "--epochs",
    "--steps",
    "--sweeps",
    "--iters",
    "--therm",
    "--seeds",
    "--restarts",
    "--n",
    "--blocks",
    "--mh-proposals",
    "--cd-k",
    "--gibbs-steps",
    "--final-samples",
    "--hmc-samples",
}
BAD_FLOATS = ["nan", "inf", "-inf", "1e400", "abc", "", "1,5", "--"]
BAD_NAMES = ["bogus", "", "../../etc", "\u00e9\u00e8", "x" * 300]
INT_TYPES = {A.positive_int, A.size, A.seed, A.count, A.workers, A.width, A.density}
FLOAT_TYPES = {A.finite, A.nonnegative, A.fraction, A.temperature}


def _bad_paths(tmp: Path) -> list[str]:
    binary = tmp / "binary.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    text = tmp / "text.txt"
    text.write_text("not what the command reads\n")
    return [
        str(tmp / "missing" / "file.h5"),
        str(tmp),  # a folder
        str(binary),
        str(text),
        str(text / "under_a_file"),
        "/dev/null",
    ]


def _commands(parser) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """``(area,)`` or ``(area, what)`` -> the subcommand's parser."""
    out = {}
    areas = next(a for a in parser._actions if a.dest == "area")  # noqa: SLF001
    for name, sub in areas.choices.items():
        whats = [a for a in sub._actions if a.dest == "what"]  # noqa: SLF001
        if whats:
            for what, p in whats[0].choices.items():
                out[(name, what)] = p
        else:
            out[(name,)] = sub
    return out


def _base(command: tuple[str, ...], tmp: Path) -> list[str] | None:
    """A small valid command line (its required flags), or None to skip the command."""
    data = str(tmp / "data.h5")
    graph = ROOT / "examples" / "maxcut_edges.txt"
    bases = {
        ("exact", "ising"): ["--L", "4", "--T", "2.0"],
        ("exact", "tfim"): ["--N", "4"],
        ("exact", "maxcut"): ["--graph", str(graph)],
        ("ising", "sample"): ["--L", "4", "--T", "2.0", "--sweeps", "20"],
        ("ising", "dataset"): ["--L", "4", "--T", "2.0", "--samples", "2", "--out", FRESH + ".h5"],
        ("ising", "scan"): [
            "--L",
            "4",
            "--T",
            "2.0",
            "2.5",
            "--sweeps",
            "20",
            "--workers",
            "0",
            "--out",
            FRESH,
        ],
        ("vqe",): ["--model", "tfim", "--N", "2", "--steps", "2"],
        ("qaoa",): ["--graph", str(graph), "--p", "1"],
        ("barren",): ["--qubits", "2,3", "--layers", "2", "--draws", "4", "--bootstrap", "10"],
        ("phases", "supervised"): ["--data", data, "--epochs", "1"],
        ("phases", "unsupervised"): ["--data", data, "--epochs", "1"],
        ("phases", "confusion"): ["--data", data, "--epochs", "1"],
        ("generative", "train"): [
            "--model",
            "made",
            "--data",
            data,
            "--L",
            "4",
            "--T",
            "2.0",
            "--epochs",
            "1",
        ],
        ("generative", "van"): ["--L", "4", "--steps", "2", "--samples", "10"],
        ("generative", "flow-phi4"): [
            "--L",
            "4",
            "--lam",
            "1.0",
            "--epochs",
            "1",
            "--samples",
            "10",
        ],
        ("nqs", "ground-state"): [
            "--N",
            "4",
            "--iters",
            "2",
            "--samples",
            "64",
            "--final-samples",
            "256",
        ],
        ("nqs", "tomography"): ["--N", "4", "--epochs", "2", "--samples", "10"],
        ("learn", "hamiltonian"): ["--L", "4", "--samples", "20"],
        ("tour",): None,  # the tour has no sizes to abuse and takes minutes
    }
    return bases.get(command, [])


def _cases(tmp: Path) -> list[list[str]]:
    """Every (command, flag, bad value) command line."""
    cases = []
    paths = _bad_paths(tmp)
    for command, p in _commands(build_parser()).items():
        base = _base(command, tmp)
        if base is None:
            continue
        for action in p._actions:  # noqa: SLF001
            if not action.option_strings or action.dest in ("help", "json"):
                continue
            if action.nargs == 0:  # a switch: nothing to abuse
                continue
            flag = action.option_strings[0]
            if action.type in INT_TYPES:
                values = BAD_INTS
            elif action.type in FLOAT_TYPES:
                values = BAD_FLOATS
            elif action.choices is not None:
                values = BAD_NAMES[:2]
            elif action.dest in ("data", "graph", "out"):
                values = paths
            else:
                values = BAD_NAMES
            for v in values:
                argv = list(command) + _replace(base, flag, v) + ["--json"]
                cases.append(argv)
    return cases


def _replace(base: list[str], flag: str, value: str) -> list[str]:
    """``base`` with ``flag`` set to ``value`` (its old values removed)."""
    out, skip = [], False
    for tok in base:
        if skip and not tok.startswith("--"):
            continue
        skip = tok == flag
        if not skip:
            out.append(tok)
    return out + [flag, value]


def _run(argvs: list[list[str]], seconds: float) -> list[dict]:
    env = dict(os.environ, QML_PHYS_FUZZ_SECONDS=str(seconds), QML_PHYS_NO_PROGRESS="1")
    env["QML_PHYS_MEMORY_LIMIT"] = str(4 * 1024**3)  # a job planning more is refused
    proc = subprocess.run(
        [sys.executable, str(HERE / "fuzz_runner.py")],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        timeout=seconds * len(argvs) + 120,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _acceptable(r: dict) -> bool:
    return not r["traceback"] and r["code"] in (0, 2)


#: Flags that count work of one command only: a dataset streams its blocks to disk, so
#: 2**31 - 1 configurations are refused only where they exceed the free disk space.
WORK_FLAGS_OF = {("ising", "dataset"): {"--samples"}}


def _runnable(case: list[str]) -> bool:
    """Not a request for 2**31 - 1 iterations (argv ends with flag, value, "--json")."""
    work = WORK_FLAGS | WORK_FLAGS_OF.get(tuple(case[:2]), set())
    return not (case[-3] in work and case[-2] == MAX_INT)


def _check(results: list[dict]) -> None:
    bad = [r for r in results if not _acceptable(r)]
    assert not bad, "\n\n".join(
        f"{' '.join(r['argv'])}\n  -> {r['code']}: {(r['traceback'] or r['stderr'])[-800:]}"
        for r in bad[:8]
    )
    assert all("error" in r["stderr"] for r in results if r["code"] == 2)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    import jax

    from qml_phys.classical.datasets import DatasetConfig, write_dataset

    tmp = tmp_path_factory.mktemp("fuzz")
    config = DatasetConfig(sizes=[4], temperatures=[2.0, 2.5], n_samples=20)
    write_dataset(tmp / "data.h5", config, key=jax.random.key(0), show_progress=False)
    return tmp


def test_bad_values_give_a_message_not_a_traceback(fuzz_dir):
    """A fixed sample of 20 runnable cases."""
    cases = [c for c in _cases(fuzz_dir) if _runnable(c)]
    _check(_run(random.Random(20261207).sample(cases, 20), seconds=90))


@pytest.mark.slow
def test_every_bad_value_of_every_flag(fuzz_dir):
    """All the cases (nightly size)."""
    _check(_run([c for c in _cases(fuzz_dir) if _runnable(c)], seconds=60))
