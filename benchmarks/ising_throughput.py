"""Ising Metropolis throughput: the qml_phys engines against plain reference implementations.

Measures attempted spin flips per nanosecond (``sites x sweeps / seconds``) of

* ``qml_phys packed``: :func:`qml_phys.classical.metropolis.sweep`, multi-spin coded engine;
* ``qml_phys general``: the same call with ``method="general"`` (int8, any J and h);
* ``numpy``: a vectorised numpy checkerboard (one float uniform per site per half-sweep);
* ``numba``: a plain single-threaded numba loop over the sites of each colour (skipped
  when numba is not installed);
* ``jax.random``: a plain ``jax.jit`` int8 checkerboard drawing ``jax.random.uniform`` for
  every site in each half-sweep,

on one large lattice (L = 1024) and on a batch of small ones (64 temperatures x L = 32), in
one run. Compilation and warm-up are excluded, every timed call ends with
``block_until_ready``, and the best of 3 calls counts. Prints a table with the ratios of
each engine to each reference; ``--json PATH`` writes a self-describing record.

    python benchmarks/ising_throughput.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.classical import metropolis as mp
from qml_phys.runtime.records import write_record

try:  # optional reference
    import numba
except ImportError:  # pragma: no cover - depends on the environment
    numba = None

SEED = 20261127
TC = 2.0 / np.log1p(np.sqrt(2.0))
WORKLOADS = {
    "L=1024": dict(L=1024, temps=np.array([TC])),
    "64 x L=32": dict(L=32, temps=np.linspace(1.5, 3.5, 64)),
}


# ----------------------------------------------------------------------------- references
def _colour_masks(L):
    r, c = np.indices((L, L))
    return [((r + c) % 2 == colour) for colour in (0, 1)]


def numpy_sweeps(rng, spins, betas, n_sweeps):
    """``spins`` ``(T, L, L)`` int8, ``betas`` ``(T,)``: checkerboard Metropolis in numpy."""
    s = spins.copy()
    masks = _colour_masks(s.shape[-1])
    b = betas[:, None, None]
    p4, p8 = np.exp(-4.0 * b), np.exp(-8.0 * b)
    for _ in range(n_sweeps):
        for mask in masks:
            nb = np.roll(s, 1, -1) + np.roll(s, -1, -1) + np.roll(s, 1, -2) + np.roll(s, -1, -2)
            sn = s * nb  # dE = 2 J s nb
            u = rng.random(s.shape, dtype=np.float32)
            accept = (sn <= 0) | ((sn == 2) & (u < p4)) | ((sn == 4) & (u < p8))
            s = np.where(mask & accept, -s, s).astype(np.int8)
    return s


if numba is not None:

    @numba.njit(cache=False)
    def _numba_kernel(s, p4, p8, n_sweeps, seed):
        np.random.seed(seed)
        n_t, L, _ = s.shape
        for _ in range(n_sweeps):
            for colour in range(2):
                for t in range(n_t):
                    for r in range(L):
                        up, down = (r - 1) % L, (r + 1) % L
                        for c in range((r + colour) % 2, L, 2):
                            nb = (
                                s[t, up, c]
                                + s[t, down, c]
                                + s[t, r, (c - 1) % L]
                                + s[t, r, (c + 1) % L]
                            )
                            sn = s[t, r, c] * nb
                            if sn <= 0:
                                s[t, r, c] = -s[t, r, c]
                            elif np.random.random() < (p4[t] if sn == 2 else p8[t]):
                                s[t, r, c] = -s[t, r, c]
        return s


def numba_sweeps(seed, spins, betas, n_sweeps):
    return _numba_kernel(spins.copy(), np.exp(-4.0 * betas), np.exp(-8.0 * betas), n_sweeps, seed)


@jax.jit
def jax_random_sweeps(key, spins, betas, n_sweeps):
    """Plain ``jax.jit`` int8 checkerboard; ``jax.random.uniform`` for every site."""
    L = spins.shape[-1]
    masks = [jnp.asarray(m) for m in _colour_masks(L)]
    b = betas[:, None, None].astype(jnp.float32)

    def half(s, key, mask):
        nb = jnp.roll(s, 1, -1) + jnp.roll(s, -1, -1) + jnp.roll(s, 1, -2) + jnp.roll(s, -1, -2)
        de = (2 * s * nb).astype(jnp.float32)
        u = jax.random.uniform(key, s.shape, jnp.float32)
        return jnp.where(mask & (u < jnp.exp(-b * de)), -s, s)

    def body(_, carry):
        s, key = carry
        key, k0, k1 = jax.random.split(key, 3)
        return half(half(s, k0, masks[0]), k1, masks[1]), key

    return jax.lax.fori_loop(0, n_sweeps, body, (spins, key))[0]


# ----------------------------------------------------------------------------- timing
def _best_of(run, n_sweeps, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(n_sweeps)
        best = min(best, time.perf_counter() - t0)
    return best


def measure(run, n_sites, target_s):
    """Flips/ns of ``run(n_sweeps)`` (which must block until done). A one-sweep call warms
    up (compiles); the sweep count doubles until a call takes a quarter of ``target_s``
    and is then scaled to about ``target_s``; the best of 3 timed calls counts. The time
    includes the per-call work of the engine (input checks, layout conversion)."""
    run(1)
    n, t = 1, 0.0
    while t < target_s / 4:
        n *= 2
        t = _best_of(run, n, repeats=1)
    n = max(1, int(round(n * target_s / t)))
    t = _best_of(run, n)
    return {"flips_per_ns": n_sites * n / t / 1e9, "sweeps": n, "seconds": t}


def engines(workload, key):
    """``{name: run(n_sweeps)}`` for one workload; each run blocks until done."""
    L, temps = workload["L"], workload["temps"]
    betas = 1.0 / temps
    spins = mp.init_spins(key, len(temps), 1, L)
    spins_tll = np.asarray(spins[:, 0])
    rng = np.random.default_rng(SEED)
    out = {
        "qml_phys packed": lambda n: mp.sweep(
            key, spins, betas, n_sweeps=n, method="packed"
        ).block_until_ready(),
        "qml_phys general": lambda n: mp.sweep(
            key, spins, betas, n_sweeps=n, method="general"
        ).block_until_ready(),
        "numpy": lambda n: numpy_sweeps(rng, spins_tll, betas, n),
    }
    if numba is not None:
        out["numba"] = lambda n: numba_sweeps(SEED, spins_tll, betas, n)
    s_j, b_j = jnp.asarray(spins_tll), jnp.asarray(betas, jnp.float32)
    out["jax.random"] = lambda n: jax_random_sweeps(key, s_j, b_j, n).block_until_ready()
    return out


OURS = ("qml_phys packed", "qml_phys general")


# ----------------------------------------------------------------------------- report
def _table(results):
    names = list(next(iter(results.values())))
    cols = list(results)
    lines = [
        "flips/ns (attempted spin updates per ns, best of 3)",
        f"{'implementation':<20}" + "".join(f"{c:>14}" for c in cols),
    ]
    for name in names:
        lines.append(
            f"{name:<20}" + "".join(f"{results[c][name]['flips_per_ns']:>14.4g}" for c in cols)
        )
    refs = [n for n in names if n not in OURS]
    lines += [
        "",
        "ratios (qml_phys engine / reference)",
        f"{'':<36}" + "".join(f"{c:>14}" for c in cols),
    ]
    for ours in OURS:
        for ref in refs:
            lines.append(
                f"{ours + ' / ' + ref:<36}"
                + "".join(
                    f"{results[c][ours]['flips_per_ns'] / results[c][ref]['flips_per_ns']:>14.3g}"
                    for c in cols
                )
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 0.1 s per timed call")
    parser.add_argument("--json", metavar="PATH", help="write the results as a JSON record")
    args = parser.parse_args(argv)
    target = 0.1 if args.quick else 0.5
    key = jax.random.key(SEED)
    results = {}
    for wname, workload in WORKLOADS.items():
        n_sites = len(workload["temps"]) * workload["L"] ** 2
        results[wname] = {}
        for name, run in engines(workload, key).items():
            results[wname][name] = measure(run, n_sites, target)
            print(
                f"  {wname:>10}  {name:<18} {results[wname][name]['flips_per_ns']:.4g} flips/ns",
                flush=True,
            )
    print()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs "
        f"({len(os.sched_getaffinity(0))} usable), "
        f"jax {jax.__version__} on {jax.devices()[0].platform}"
        + ("" if numba else "; numba not installed")
    )
    print(_table(results))
    if args.json:
        workloads = {k: {"L": v["L"], "temps": v["temps"]} for k, v in WORKLOADS.items()}
        config = {"quick": args.quick, "target_seconds": target, "workloads": workloads}
        write_record(
            args.json, {"flips_per_ns": results}, config=config, seed=SEED, kind="benchmark"
        )
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
