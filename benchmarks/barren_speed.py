r"""Barren-plateau sweep: the package's vectorised engine against a plain PennyLane loop.

Workload (McClean-style sweep): hardware-efficient circuits, global cost, 50 layers,
200 random draws per qubit count, n = 2, 4, ..., 10; all parameter derivatives per draw.

* ``qml_phys``: :func:`qml_phys.circuits.barren.gradient_ensemble` -- one jitted call per
  n (pure-JAX state vector, adjoint-method gradients, ``vmap`` over draws, ``lax.scan``
  over layers). Timed cold (compilation included, as a user sees it) and warm.
* ``pennylane loop``: one QNode per n (``lightning.qubit``, adjoint differentiation,
  autograd interface) called once per draw with ``qml.grad``. Only ``--reference-draws``
  draws per n are timed and the time is scaled to ``--draws`` (said so in the output).

The first derivatives of a few draws are compared between the two, so the speed is for the
same numbers. ``--max-seconds S`` instead runs n = 2, 4, ... with the engine until the
sweep has taken ``S`` seconds and reports how far n got (and each n's time).

    python benchmarks/barren_speed.py [--max-n 10] [--json PATH]
    python benchmarks/barren_speed.py --max-seconds 60
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
import pennylane as qml
from pennylane import numpy as pnp

from qml_phys.circuits.barren import (
    EnsembleConfig,
    draw_circuits,
    gradient_ensemble,
    pennylane_qnode,
)
from qml_phys.runtime.records import write_record


def engine(n: int, layers: int, draws: int, key) -> tuple[float, float, np.ndarray]:
    """(cold seconds, warm seconds, gradients of ``key``'s draws) of one ensemble."""
    config = EnsembleConfig(n_qubits=n, n_layers=layers, cost="global")
    t0 = time.perf_counter()
    g = gradient_ensemble(config, key=key, n_draws=draws).block_until_ready()
    t1 = time.perf_counter()
    warm_key = jax.random.fold_in(key, 1)  # a new key: no recompilation
    gradient_ensemble(config, key=warm_key, n_draws=draws).block_until_ready()
    return t1 - t0, time.perf_counter() - t1, np.asarray(g, np.float64)


def reference(n: int, layers: int, draws: int, key) -> tuple[float, np.ndarray]:
    """Seconds for ``draws`` PennyLane gradient calls (QNode built once), and gradients."""
    config = EnsembleConfig(n_qubits=n, n_layers=layers, cost="global")
    thetas, _ = draw_circuits(config, key=key, n_draws=draws)
    qnode = pennylane_qnode(config, device="lightning.qubit")
    grad = qml.grad(qnode)
    out = []
    t0 = time.perf_counter()
    for theta in np.asarray(thetas, np.float64):
        out.append(np.asarray(grad(pnp.array(theta, requires_grad=True))).reshape(-1))
    return time.perf_counter() - t0, np.stack(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-n", type=int, default=10)
    ap.add_argument("--layers", type=int, default=50)
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--reference-draws", type=int, default=10, help="PennyLane draws timed per n")
    ap.add_argument("--max-seconds", type=float, default=None, help="how far n goes in S s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write a record here")
    args = ap.parse_args(argv)
    key = jax.random.key(args.seed)
    device = str(jax.devices()[0])
    if args.max_seconds is not None:
        total, rows, n = 0.0, [], 2
        cpu0 = time.process_time()  # CPU seconds too: wall time is unreliable on a busy host
        while True:
            t0 = time.perf_counter()
            config = EnsembleConfig(n_qubits=n, n_layers=args.layers, cost="global")
            gradient_ensemble(config, key=key, n_draws=args.draws).block_until_ready()
            dt = time.perf_counter() - t0
            total += dt
            if total > args.max_seconds:
                print(f"n = {n}: {dt:.1f} s (sweep total {total:.1f} s > {args.max_seconds} s)")
                break
            cpu = time.process_time() - cpu0
            rows.append({"n": n, "seconds": dt, "cumulative": total, "cumulative_cpu": cpu})
            print(f"n = {n:2d}: {dt:7.2f} s   cumulative {total:7.2f} s (CPU {cpu:7.2f} s)",
                  flush=True)  # fmt: skip
            n += 2
        result = {"device": device, "max_n_within": rows[-1]["n"] if rows else None, "rows": rows}
        print(f"{device}: the sweep n = 2..{result['max_n_within']} (step 2, {args.layers} layers,"
              f" {args.draws} draws) fits in {args.max_seconds} s")  # fmt: skip
    else:
        rows = []
        for n in range(2, args.max_n + 1, 2):
            cold, warm, g = engine(n, args.layers, args.draws, key)
            t_ref, g_ref = reference(n, args.layers, args.reference_draws, key)
            k = args.reference_draws
            err = float(np.max(np.abs(g[:k] - g_ref)))
            ref_full = t_ref * args.draws / k
            rows.append({"n": n, "engine_cold_s": cold, "engine_warm_s": warm,
                         "pennylane_s_extrapolated": ref_full, "max_abs_dg": err})  # fmt: skip
            print(f"n = {n:2d}: engine {cold:6.2f} s cold, {warm:6.3f} s warm | PennyLane "
                  f"{ref_full:7.2f} s ({k} draws timed, x{args.draws / k:g}) | max |dg| "
                  f"{err:.1e}", flush=True)  # fmt: skip
        cold = sum(r["engine_cold_s"] for r in rows)
        warm = sum(r["engine_warm_s"] for r in rows)
        ref = sum(r["pennylane_s_extrapolated"] for r in rows)
        result = {"device": device, "rows": rows, "engine_cold_s": cold, "engine_warm_s": warm,
                  "pennylane_s_extrapolated": ref, "speedup_cold": ref / cold,
                  "speedup_warm": ref / warm}  # fmt: skip
        print(f"sweep n = 2..{args.max_n}: engine {cold:.2f} s (cold) / {warm:.2f} s (warm); "
              f"PennyLane loop {ref:.1f} s (extrapolated); speedup {ref / cold:.1f}x cold, "
              f"{ref / warm:.0f}x warm")  # fmt: skip
    if args.json:
        write_record(args.json, result, config=vars(args), seed=args.seed, kind="bench.barren")


if __name__ == "__main__":
    main()
