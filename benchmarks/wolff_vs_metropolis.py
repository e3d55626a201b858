r"""Wolff cluster updates against the package's checkerboard Metropolis at criticality.

The figure of merit is *effective independent samples per second* of the order parameter,

    n_eff / wall = (n_meas * n_chains) / (2 tau_int(|m|)) / wall,

with :math:`\tau_\mathrm{int}` in Sokal's convention (``qml_phys.classical.statistics``)
and measured in the engine's own unit of time (Wolff: cluster flips; Metropolis: groups of
``measure_every`` sweeps). Both engines start ordered, are thermalised by a first call
(which also compiles), and are timed on a second call of the same shapes. Same machine,
same run, same number of chains; the ratio is what is reported.

    python benchmarks/wolff_vs_metropolis.py                # L = 64, T = Tc
    python benchmarks/wolff_vs_metropolis.py --L 32 --json out.json
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


def measure_wolff(key, L: int, T: float, *, n_chains: int, n_meas: int) -> dict:
    """Wolff at ``(L, T)``: |m| after every cluster flip."""
    lattice = Lattice.square(L)
    k1, k2 = jax.random.split(key)
    warm = cluster.run(k1, lattice, [T], n_chains=n_chains, n_therm=200, n_meas=n_meas,
                       init="up")
    jax.block_until_ready(warm.spins)
    t0 = time.perf_counter()
    res = cluster.run(k2, lattice, [T], n_chains=n_chains, n_therm=0, n_meas=n_meas,
                      init=warm.spins)
    abs_m = np.abs(np.asarray(res.magnetization)[:, 0, :])
    wall = time.perf_counter() - t0
    out = _result("wolff", abs_m, wall, 1.0, n_meas)
    out["mean_cluster_fraction"] = float(np.mean(res.mean_cluster_size)) / lattice.n_sites
    out["tau_int_sweeps"] = out["tau_int_unit"] * out["mean_cluster_fraction"]
    return out


def measure_metropolis(key, L: int, T: float, *, n_chains: int, n_meas: int,
                       measure_every: int, method: str = "auto") -> dict:
    """Checkerboard Metropolis at ``(L, T)``; ``method="auto"`` is the bit-packed engine at
    h = 0, ``"general"`` the int8 one."""
    k0, k1, k2 = jax.random.split(key, 3)
    betas = np.array([1.0 / T])
    spins = metropolis.init_spins(k0, 1, n_chains, L, hot=False)
    n_sweeps = n_meas * measure_every
    run = functools.partial(metropolis.run, n_sweeps=n_sweeps, measure_every=measure_every,
                            method=method)
    spins, _ = run(k1, spins, betas)
    jax.block_until_ready(spins)
    t0 = time.perf_counter()
    spins, trace = run(k2, spins, betas)
    abs_m = np.abs(np.asarray(trace.magnetization)[:, 0, :])
    wall = time.perf_counter() - t0
    out = _result(f"metropolis ({method})", abs_m, wall, float(measure_every), n_sweeps)
    out["tau_int_sweeps"] = out["tau_int_unit"]
    return out


def compare(L: int = 64, T: float | None = None, *, n_chains: int = 16, seed: int = 0,
            wolff_meas: int = 2000, metropolis_meas: int = 4000,
            measure_every: int = 8, metropolis_method: str = "auto") -> dict:
    """Measure both engines in one process; ``ratio`` = Wolff / Metropolis samples per s."""
    T = onsager_tc() if T is None else T
    kw, km = jax.random.split(jax.random.key(seed))
    w = measure_wolff(kw, L, T, n_chains=n_chains, n_meas=wolff_meas)
    m = measure_metropolis(km, L, T, n_chains=n_chains, n_meas=metropolis_meas,
                           measure_every=measure_every, method=metropolis_method)
    return {
        "config": {"L": L, "T": T, "n_chains": n_chains, "seed": seed,
                   "wolff_meas": wolff_meas, "metropolis_meas": metropolis_meas,
                   "measure_every": measure_every, "metropolis_method": metropolis_method},
        "wolff": w,
        "metropolis": m,
        "ratio": w["eff_samples_per_s"] / m["eff_samples_per_s"],
        "provenance": _provenance(),
    }


def _provenance() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"jax": jax.__version__, "numpy": np.__version__, "python": platform.python_version(),
            "device": str(jax.devices()[0]), "git_commit": commit}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--L", type=int, default=64)
    p.add_argument("--T", type=float, default=None, help="temperature (default: Onsager Tc)")
    p.add_argument("--chains", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--wolff-meas", type=int, default=2000)
    p.add_argument("--metropolis-meas", type=int, default=4000)
    p.add_argument("--measure-every", type=int, default=8)
    p.add_argument("--metropolis-method", default="auto", choices=metropolis.METHODS)
    p.add_argument("--json", default=None, help="also write the result here")
    a = p.parse_args(argv)
    r = compare(a.L, a.T, n_chains=a.chains, seed=a.seed, wolff_meas=a.wolff_meas,
                metropolis_meas=a.metropolis_meas, measure_every=a.measure_every,
                metropolis_method=a.metropolis_method)
    for name in ("wolff", "metropolis"):
        e = r[name]
        print(f"{e['engine']:>21}: tau_int(|m|) = {e['tau_int_sweeps']:8.2f} sweeps "
              f"({e['tau_int_unit']:.2f} {'steps' if name == 'wolff' else 'sweeps'}, "
              f"reliable={e['tau_reliable']}), "
              f"{e['us_per_update_per_chain']:9.2f} us/update/chain, "
              f"{e['eff_samples_per_s']:10.1f} independent samples/s")
    print(f"ratio Wolff / Metropolis = {r['ratio']:.1f}x  (L={a.L}, T={r['config']['T']:.6f}, "
          f"{a.chains} chains, {r['provenance']['device']})")
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(r, f, indent=2)
    return r


if __name__ == "__main__":
    main()
