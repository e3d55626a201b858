r"""Wolff cluster updates (JAX and numba backends) against the package's checkerboard
Metropolis (bit-packed and general int8 engines) at criticality.

The figure of merit is *effective independent samples per second* of the order parameter,

    n_eff / wall = (n_meas * n_chains) / (2 tau_int(|m|)) / wall,

with :math:`\tau_\mathrm{int}` in Sokal's convention (``qml_phys.classical.statistics``)
and measured in the engine's own unit of time (Wolff: cluster flips; Metropolis: groups of
``measure_every`` sweeps). Every engine starts ordered, is thermalised by a first call
(which also compiles), and is timed on a second call of the same shapes, measurements
included (Wolff records e and m after every flip, as ``cluster.measure`` does). Same machine,
same run, same number of chains; the ratios are what is reported. The numba Wolff runs the
chains one after another on one core; XLA may spread the JAX engines over all cores.

    python benchmarks/wolff_vs_metropolis.py                # L = 64, T = Tc, ~1 min
    python benchmarks/wolff_vs_metropolis.py --L 32 --json out.json
    python benchmarks/wolff_vs_metropolis.py --jax-wolff-meas 0   # skip the slow JAX Wolff
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import subprocess
import time

import jax
import numpy as np

from qml_phys.classical import cluster, metropolis
from qml_phys.classical.statistics import integrated_time
from qml_phys.physics.exact import onsager_tc
from qml_phys.physics.lattice import Lattice


def _result(name, abs_m, wall, unit_per_meas, n_updates):
    """``abs_m`` ``(n_meas, n_chains)``; returns a dict of the figures of merit."""
    tau = integrated_time(np.asarray(abs_m, np.float64).T, warn=False)
    n_eff = abs_m.size / (2.0 * tau.tau_int)
    return {
        "engine": name,
        "wall_s": wall,
        "n_meas": int(abs_m.shape[0]),
        "n_chains": int(abs_m.shape[1]),
        "tau_int_meas": tau.tau_int,
        "tau_int_unit": tau.tau_int * unit_per_meas,
        "tau_reliable": tau.reliable,
        "n_eff": n_eff,
        "eff_samples_per_s": n_eff / wall,
        "us_per_update_per_chain": 1e6 * wall / (n_updates * abs_m.shape[1]),
    }


def measure_wolff(key, L: int, T: float, *, n_chains: int, n_meas: int, backend: str) -> dict:
    """Wolff at ``(L, T)`` on ``backend``: |m| after every cluster flip."""
    lattice = Lattice.square(L)
    betas = np.array([1.0 / T])
    k1, k2 = jax.random.split(key)
    up = jax.numpy.ones((1, n_chains, L, L), jax.numpy.int8)
    # thermalise (and compile the measurement on its own shapes) before timing
    _, spins = cluster.wolff(k1, up, betas, lattice=lattice, n_steps=200, backend=backend)
    warm = cluster.measure(k1, spins, betas, model=lattice, n_meas=n_meas, backend=backend)
    jax.block_until_ready(warm[3])
    t0 = time.perf_counter()
    _, magnetization, size, _ = cluster.measure(
        k2, warm[3], betas, model=lattice, n_meas=n_meas, backend=backend
    )
    abs_m = np.abs(np.asarray(magnetization)[:, 0, :])
    wall = time.perf_counter() - t0
    out = _result(f"wolff ({backend})", abs_m, wall, 1.0, n_meas)
    out["unit"] = "flip"
    out["mean_cluster_fraction"] = float(np.mean(size)) / lattice.n_sites
    out["tau_int_sweeps"] = out["tau_int_unit"] * out["mean_cluster_fraction"]
    return out


def measure_metropolis(
    key, L: int, T: float, *, n_chains: int, n_meas: int, measure_every: int, method: str
) -> dict:
    """Checkerboard Metropolis at ``(L, T)``: ``"packed"`` (multi-spin coded) or
    ``"general"`` (int8)."""
    k0, k1, k2 = jax.random.split(key, 3)
    betas = np.array([1.0 / T])
    spins = metropolis.init_spins(k0, 1, n_chains, L, hot=False)
    n_sweeps = n_meas * measure_every
    run = functools.partial(
        metropolis.run, n_sweeps=n_sweeps, measure_every=measure_every, method=method
    )
    spins, _ = run(k1, spins, betas)
    jax.block_until_ready(spins)
    t0 = time.perf_counter()
    spins, trace = run(k2, spins, betas)
    abs_m = np.abs(np.asarray(trace.magnetization)[:, 0, :])
    wall = time.perf_counter() - t0
    out = _result(f"metropolis ({method})", abs_m, wall, float(measure_every), n_sweeps)
    out["unit"] = "sweep"
    out["tau_int_sweeps"] = out["tau_int_unit"]
    return out


def compare(
    L: int = 64,
    T: float | None = None,
    *,
    n_chains: int = 16,
    seed: int = 0,
    numba_wolff_meas: int = 4000,
    jax_wolff_meas: int = 500,
    metropolis_meas: int = 16000,
    measure_every: int = 8,
) -> dict:
    """Measure every engine in one process. ``ratios[w][m]`` = samples per second of Wolff
    engine ``w`` over those of Metropolis engine ``m``."""
    T = onsager_tc() if T is None else T
    keys = jax.random.split(jax.random.key(seed), 4)
    wolff = {}
    for k, backend, n_meas in (
        (keys[0], "numba", numba_wolff_meas),
        (keys[1], "jax", jax_wolff_meas),
    ):
        if n_meas > 0:
            wolff[backend] = measure_wolff(
                k, L, T, n_chains=n_chains, n_meas=n_meas, backend=backend
            )
    metro = {
        method: measure_metropolis(
            k,
            L,
            T,
            n_chains=n_chains,
            n_meas=metropolis_meas,
            measure_every=measure_every,
            method=method,
        )
        for k, method in zip(keys[2:], ("packed", "general"), strict=True)
    }
    ratios = {
        w: {m: wolff[w]["eff_samples_per_s"] / metro[m]["eff_samples_per_s"] for m in metro}
        for w in wolff
    }
    return {
        "config": {
            "L": L,
            "T": T,
            "n_chains": n_chains,
            "seed": seed,
            "numba_wolff_meas": numba_wolff_meas,
            "jax_wolff_meas": jax_wolff_meas,
            "metropolis_meas": metropolis_meas,
            "measure_every": measure_every,
        },
        "wolff": wolff,
        "metropolis": metro,
        "ratios": ratios,
        "provenance": _provenance(),
    }


def _provenance() -> dict:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    try:
        import numba

        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    return {
        "jax": jax.__version__,
        "numpy": np.__version__,
        "numba": numba_version,
        "python": platform.python_version(),
        "device": str(jax.devices()[0]),
        "git_commit": commit,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--L", type=int, default=64)
    p.add_argument("--T", type=float, default=None, help="temperature (default: Onsager Tc)")
    p.add_argument("--chains", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--numba-wolff-meas",
        type=int,
        default=4000,
        help="flips timed per chain, numba Wolff (0: skip)",
    )
    p.add_argument(
        "--jax-wolff-meas", type=int, default=500, help="flips timed per chain, JAX Wolff (0: skip)"
    )
    p.add_argument(
        "--metropolis-meas",
        type=int,
        default=16000,
        help="measurements per chain, Metropolis (4000 underestimates tau by ~15%%)",
    )
    p.add_argument("--measure-every", type=int, default=8)
    p.add_argument("--json", default=None, help="also write the result here")
    a = p.parse_args(argv)
    r = compare(
        a.L,
        a.T,
        n_chains=a.chains,
        seed=a.seed,
        numba_wolff_meas=a.numba_wolff_meas,
        jax_wolff_meas=a.jax_wolff_meas,
        metropolis_meas=a.metropolis_meas,
        measure_every=a.measure_every,
    )
    engines = list(r["wolff"].values()) + list(r["metropolis"].values())
    print(f"L={a.L}, T={r['config']['T']:.6f}, {a.chains} chains, {r['provenance']['device']}")
    print(
        f"{'engine':>20} | {'us/update/chain':>15} | {'tau_int(|m|)':>16} | "
        f"{'tau (sweeps)':>12} | {'reliable':>8} | {'eff. samples/s':>14}"
    )
    for e in engines:
        print(
            f"{e['engine']:>20} | {e['us_per_update_per_chain']:9.2f}/{e['unit']:<5} | "
            f"{e['tau_int_unit']:10.2f} {e['unit'] + 's':<5} | {e['tau_int_sweeps']:12.2f} | "
            f"{e['tau_reliable']!s:>8} | {e['eff_samples_per_s']:14.1f}"
        )
    for w, row in r["ratios"].items():
        print(
            f"ratio Wolff ({w}) / Metropolis: " + ", ".join(f"{m} {x:.2f}x" for m, x in row.items())
        )
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(r, f, indent=2)
    return r


if __name__ == "__main__":
    main()
