r"""The face costs what its engine costs: the ``qml-phys`` command line against its engine.

In one run (one process, one machine):

* (a) ``qml-phys --help`` as a subprocess, best of ``--help-repeats`` (target < 1 s: the
  area modules of ``qml_phys.cli`` import only the standard library);
* (b) ``qml-phys barren --qubits 2:10:2 --layers 50 --draws 200 --cost global`` in-process
  through :func:`qml_phys.cli.main` (``--json``, output captured): the scan with its
  bootstrap intervals, decay fits and 2-design references, as a user runs it;
* (c) :func:`qml_phys.circuits.barren.gradient_ensemble` for the same qubit counts, cold
  (one call per n, compilation included), each call finished before the next (as
  ``barren_speed.py`` times it), and (c') the same calls dispatched back to back and
  finished at the end (JAX's asynchronous dispatch lets n + 1 compile while n runs).

JAX and the engine module are imported, and the CPU backend started, before anything is
timed; JAX's compilation caches are cleared before each timed part, so (b) and (c) both
compile everything. (b) pays its own imports (the statistics, ``scipy.stats`` through
the fits, the progress bar) in the first repeat only. The ratio (b) / (c) is the face's
cost (target <= 1.5). Wall seconds and CPU seconds of the process (all threads) are both
reported: on a shared machine the CPU ratio is the steadier one.

    python benchmarks/face_cost.py [--repeats 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

COMMAND = [
    "barren", "--qubits", "2:10:2", "--layers", "50", "--draws", "200", "--cost", "global",
]  # fmt: skip


def help_seconds(repeats: int) -> list[float]:
    """Wall seconds of ``qml-phys --help`` in a fresh interpreter, ``repeats`` times."""
    exe = shutil.which("qml-phys", path=os.path.dirname(sys.executable))
    argv = [exe, "--help"] if exe else [sys.executable, "-m", "qml_phys.cli", "--help"]
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def command_seconds(seed: int) -> tuple[float, float, dict]:
    """Wall and CPU seconds of the barren command in this process, and its JSON output."""
    from qml_phys.cli import main

    buf = io.StringIO()
    t0, c0 = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(buf):
        status = main([*COMMAND, "--seed", str(seed), "--json"])
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    if status != 0:
        raise SystemExit(f"qml-phys {' '.join(COMMAND)} exited with {status}")
    return seconds, cpu, json.loads(buf.getvalue())


def engine_seconds(seed: int, *, pipelined: bool) -> tuple[float, float]:
    """Wall and CPU seconds of the cold engine sweep n = 2, 4, ..., 10 (50 layers, 200
    draws)."""
    import jax

    from qml_phys.circuits.barren import EnsembleConfig, gradient_ensemble

    key = jax.random.key(seed)
    t0, c0 = time.perf_counter(), time.process_time()
    pending = []
    for n in range(2, 11, 2):
        config = EnsembleConfig(n_qubits=n, n_layers=50, cost="global")
        grads = gradient_ensemble(config, key=jax.random.fold_in(key, n), n_draws=200)
        if pipelined:
            pending.append(grads)
        else:
            grads.block_until_ready()
    jax.block_until_ready(pending)
    return time.perf_counter() - t0, time.process_time() - c0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=2, help="rounds of (b), (c), (c')")
    ap.add_argument("--help-repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write a record here")
    args = ap.parse_args(argv)

    helps = help_seconds(args.help_repeats)
    print(f"(a) qml-phys --help: best {min(helps):.3f} s of {len(helps)} (target < 1 s)")

    import jax

    import qml_phys.circuits.barren  # noqa: F401 - the engine's import is not timed

    device = str(jax.devices()[0])
    rows = []
    for r in range(args.repeats):
        jax.clear_caches()
        cmd, cmd_cpu, out = command_seconds(args.seed)
        jax.clear_caches()
        blocking, blocking_cpu = engine_seconds(args.seed, pipelined=False)
        jax.clear_caches()
        pipelined, pipelined_cpu = engine_seconds(args.seed, pipelined=True)
        rows.append(
            {
                "repeat": r,
                "command_s": cmd,
                "engine_blocking_s": blocking,
                "engine_pipelined_s": pipelined,
                "ratio_blocking": cmd / blocking,
                "ratio_pipelined": cmd / pipelined,
                "command_cpu_s": cmd_cpu,
                "engine_blocking_cpu_s": blocking_cpu,
                "engine_pipelined_cpu_s": pipelined_cpu,
                "ratio_cpu": cmd_cpu / blocking_cpu,
            }
        )
        print(
            f"round {r}: (b) command {cmd:.2f} s | (c) engine {blocking:.2f} s, "
            f"(c') pipelined {pipelined:.2f} s | ratio {cmd / blocking:.2f} "
            f"({cmd / pipelined:.2f} vs pipelined) | CPU {cmd_cpu:.2f} / {blocking_cpu:.2f} "
            f"/ {pipelined_cpu:.2f} s, ratio {cmd_cpu / blocking_cpu:.2f}",
            flush=True,
        )
    assert [row["n"] for row in out["rows"]] == [2, 4, 6, 8, 10]  # it did the same work
    result = {
        "device": device,
        "help_s": helps,
        "help_best_s": min(helps),
        "rows": rows,
        "ratio_first": rows[0]["ratio_blocking"],
        "ratio_median": statistics.median(row["ratio_blocking"] for row in rows),
        "ratio_median_vs_pipelined": statistics.median(row["ratio_pipelined"] for row in rows),
        "ratio_cpu_median": statistics.median(row["ratio_cpu"] for row in rows),
        "load_average": os.getloadavg(),
    }
    print(
        f"{device}: command / engine = {result['ratio_first']:.2f} (first round, with the "
        f"command's imports), median {result['ratio_median']:.2f}; against the pipelined "
        f"engine {result['ratio_median_vs_pipelined']:.2f}; CPU seconds "
        f"{result['ratio_cpu_median']:.2f} (target <= 1.5); load "
        f"{result['load_average'][0]:.1f}"
    )
    if args.json:
        from qml_phys.runtime.records import write_record

        write_record(args.json, result, config=vars(args), seed=args.seed, kind="bench.face_cost")
    return result


if __name__ == "__main__":
    main()
