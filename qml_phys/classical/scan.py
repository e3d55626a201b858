"""Temperature x size x seed scans as a sweep (local processes or a Dask cluster), with
Binder-cumulant crossings as the finite-size estimate of T_c.

Each grid point is one :func:`qml_phys.classical.simulate.observables_point` job, recorded
on its own by :func:`qml_phys.runtime.sweep.run_sweep`, so a scan interrupted at any point
resumes where it stopped and a scan on a cluster is the same call with a scheduler address.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qml_phys.classical.simulate import binder_crossing, observables_point
from qml_phys.errors import InvalidParameterError
from qml_phys.runtime.sweep import grid, run_sweep


def _combine(values: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """Inverse-variance mean of independent seeds (plain mean if an error is 0)."""
    if np.all(errors > 0):
        w = 1.0 / errors**2
        return float(np.sum(w * values) / np.sum(w)), float(1.0 / np.sqrt(np.sum(w)))
    return float(np.mean(values)), float(np.std(values) / np.sqrt(max(len(values), 1)))


def binder_scan(
    sizes: Sequence[int],
    temperatures: Sequence[float],
    *,
    seeds: Sequence[int] = (0,),
    out: str | Path,
    algorithm: str = "wolff",
    n_sweeps: int = 2000,
    n_chains: int = 4,
    scheduler: str | None = None,
    workers: int | None = None,
    n_resamples: int = 400,
) -> dict:
    """Observables on the grid ``sizes x temperatures x seeds`` and the Binder crossings.

    Returns a JSON-able dict: per (L, T) the seed-combined Binder cumulant, |m|, energy
    and susceptibility with errors; for each pair of consecutive sizes the crossing
    temperature with an error (the spread of crossings of curves resampled within their
    error bars); and the sweep summary (points run, skipped, failed).
    """
    sizes = sorted({int(L) for L in sizes})
    temps = np.array(sorted({float(T) for T in temperatures}))
    if len(temps) < 2:
        raise InvalidParameterError(
            f"temperatures: expected at least 2 to locate a crossing; got {len(temps)}"
        )
    points = grid(
        L=sizes,
        T=[float(t) for t in temps],
        seed=list(seeds),
        algorithm=algorithm,
        n_sweeps=n_sweeps,
        n_chains=n_chains,
    )
    sweep = run_sweep(
        observables_point, points, out=out, scheduler=scheduler, workers=workers, desc="Ising scan"
    )
    names = ("binder", "abs_m", "energy", "susceptibility")
    table: dict[int, dict[str, np.ndarray]] = {}
    for L in sizes:
        cols = {f"{n}{s}": np.full(len(temps), np.nan) for n in names for s in ("", "_err")}
        for i, T in enumerate(temps):
            rows = [r for r in sweep.rows() if r["L"] == L and r["T"] == T]
            for n in names:
                if rows:
                    v = np.array([r["observables"][n]["mean"] for r in rows])
                    e = np.array([r["observables"][n]["error"] or 0.0 for r in rows])
                    cols[n][i], cols[f"{n}_err"][i] = _combine(v, e)
        table[L] = cols
    rng = np.random.default_rng(0)
    crossings = []
    for small, large in zip(sizes[:-1], sizes[1:], strict=True):
        a, b = table[small], table[large]
        tc = binder_crossing(temps, a["binder"], b["binder"])
        draws = [
            binder_crossing(
                temps,
                a["binder"] + a["binder_err"] * rng.standard_normal(len(temps)),
                b["binder"] + b["binder_err"] * rng.standard_normal(len(temps)),
            )
            for _ in range(n_resamples)
        ]
        draws = np.array(draws)
        ok = np.isfinite(draws)
        crossings.append(
            {
                "L_small": small,
                "L_large": large,
                "Tc": tc,
                "Tc_err": float(np.std(draws[ok])) if ok.sum() > 1 else None,
                "resamples_crossing": float(ok.mean()),
            }
        )
    return {
        "ok": sweep.ok,
        "temperatures": temps.tolist(),
        "observables": {str(L): {k: v.tolist() for k, v in table[L].items()} for L in sizes},
        "crossings": crossings,
        "sweep": sweep.summary(),
    }
