"""Temperature x size x replica scans as a sweep (local processes or a Dask cluster), with
Binder-cumulant crossings as the finite-size estimate of T_c.

Each grid point is one :func:`simulate` job, recorded on its own by
:func:`qml_phys.runtime.sweep.run_sweep`, so a scan interrupted at any point resumes where
it stopped and a scan on a cluster is the same call with a scheduler address. A point
carries its own key (the raw data of ``fold_in(key, replica)``, so that it travels to a
worker as JSON); the same key and grid give the same jobs.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence

import jax
import numpy as np

from qml_phys.classical.observables import observables_to_dict
from qml_phys.classical.simulate import SimulationConfig, check_algorithm, simulate
from qml_phys.errors import InvalidParameterError, check_positive_int
from qml_phys.runtime.results import Result
from qml_phys.runtime.sweep import grid, run_sweep
from qml_phys.stats.fits import curves_crossing

__all__ = ["BinderScan", "BinderScanConfig", "binder_scan"]


@dataclasses.dataclass(frozen=True)
class BinderScanConfig:
    """What each point of a Binder scan runs.

    Attributes:
        algorithm: ``"wolff"``, ``"swendsen-wang"`` or ``"metropolis"``.
        n_sweeps: measured sweeps per run.
        n_chains: chains per run.
        n_replicas: independent runs per ``(L, T)`` (combined by inverse variance).
        n_resamples: resampled Binder curves for the error of each crossing.
    """

    algorithm: str = "wolff"
    n_sweeps: int = 2000
    n_chains: int = 4
    n_replicas: int = 1
    n_resamples: int = 400

    def __post_init__(self):
        object.__setattr__(self, "algorithm", check_algorithm(self.algorithm))
        for name in ("n_sweeps", "n_chains", "n_replicas", "n_resamples"):
            object.__setattr__(self, name, check_positive_int(name, getattr(self, name)))


@dataclasses.dataclass(frozen=True, kw_only=True)
class BinderScan(Result):
    """Result of :func:`binder_scan`; :meth:`summary` is the JSON the command prints."""

    temperatures: np.ndarray
    observables: dict[int, dict[str, np.ndarray]]
    """``L`` -> columns ``binder``, ``abs_m``, ``energy``, ``susceptibility`` and their
    ``_err``, over ``temperatures`` (replicas combined)."""
    crossings: list[dict]
    sweep: dict
    """The sweep's summary (points run, skipped, failed)."""

    @property
    def ok(self) -> bool:
        """True when every job of the sweep finished."""
        return bool(self.sweep["ok"])

    def summary(self) -> dict:
        """``ok``, ``temperatures``, per-size observables, ``crossings``, ``sweep``."""
        return {
            "ok": self.ok,
            "temperatures": self.temperatures.tolist(),
            "observables": {
                str(L): {k: v.tolist() for k, v in cols.items()}
                for L, cols in self.observables.items()
            },
            "crossings": self.crossings,
            "sweep": self.sweep,
            "wall_time_s": self.wall_time_s,
        }


def _ising_point(L, T, key, algorithm, n_sweeps, n_chains, replica) -> dict:
    """One sweep job: :func:`simulate` at ``(L, T)`` with the point's key, as JSON-able
    observables with errors."""
    config = SimulationConfig(algorithm=algorithm, n_sweeps=n_sweeps, n_chains=n_chains)
    sim = simulate(
        int(L), float(T), config, key=jax.random.wrap_key_data(np.asarray(key, np.uint32))
    )
    return {"L": L, "T": T, "replica": replica, "observables": observables_to_dict(sim.observables)}


def _combine(values: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """Inverse-variance mean of independent replicas (plain mean if an error is 0)."""
    if np.all(errors > 0):
        w = 1.0 / errors**2
        return float(np.sum(w * values) / np.sum(w)), float(1.0 / np.sqrt(np.sum(w)))
    return float(np.mean(values)), float(np.std(values) / np.sqrt(max(len(values), 1)))


def _preflight(sizes: list[int], n_temps: int, config: BinderScanConfig) -> None:
    """Refuse a scan whose grid or whose largest job cannot fit in memory, before any job
    starts (a job that fails inside the sweep is only recorded as failed)."""
    from qml_phys.runtime.resources import check_memory

    n_points = len(sizes) * n_temps * config.n_replicas
    check_memory(f"a scan of {n_points} points", 2048.0 * n_points)
    L = max(sizes)
    check_memory(
        f"one scan job at L={L} with {config.n_chains} chains and {config.n_sweeps} sweeps",
        17.0 * L * L * config.n_chains + 16.0 * config.n_sweeps * config.n_chains,
    )


def binder_scan(
    sizes: Sequence[int],
    temperatures: Sequence[float],
    config: BinderScanConfig = BinderScanConfig(),
    *,
    key: jax.Array,
    out: str | os.PathLike,
    scheduler: str | None = None,
    workers: int | None = None,
) -> BinderScan:
    """Observables on the grid ``sizes x temperatures x replicas`` and the Binder crossings.

    Args:
        sizes, temperatures: the grid (at least two temperatures).
        config: what each point runs (:class:`BinderScanConfig`).
        key: PRNG key; replica ``r`` of every point uses ``fold_in(key, r)`` (common random
            numbers across the grid, on purpose: the crossings compare curves).
        out: the sweep folder (one record per finished job; a rerun skips them).
        scheduler, workers: where the jobs run (:func:`qml_phys.runtime.sweep.run_sweep`).

    Returns:
        A :class:`BinderScan`: per ``(L, T)`` the replica-combined Binder cumulant, ``|m|``,
        energy and susceptibility with errors; for each pair of consecutive sizes the
        crossing temperature with an error (the spread of crossings of curves resampled
        within their error bars).
    """
    t0 = time.perf_counter()
    sizes = sorted({int(L) for L in sizes})
    temps = np.array(sorted({float(T) for T in temperatures}))
    if len(temps) < 2:
        raise InvalidParameterError(
            f"temperatures: expected at least 2 to locate a crossing; got {len(temps)}"
        )
    _preflight(sizes, len(temps), config)
    k_runs, k_resample = jax.random.split(key)
    replica_keys = {
        r: np.asarray(jax.random.key_data(jax.random.fold_in(k_runs, r))).tolist()
        for r in range(config.n_replicas)
    }
    points = [
        p | {"key": replica_keys[p["replica"]]}
        for p in grid(
            L=sizes,
            T=[float(t) for t in temps],
            replica=list(range(config.n_replicas)),
            algorithm=config.algorithm,
            n_sweeps=config.n_sweeps,
            n_chains=config.n_chains,
        )
    ]
    sweep = run_sweep(_ising_point, points, out=out, scheduler=scheduler, workers=workers)
    names = ("binder", "abs_m", "energy", "susceptibility")
    table: dict[int, dict[str, np.ndarray]] = {}
    rows = sweep.rows()
    for L in sizes:
        cols = {f"{n}{s}": np.full(len(temps), np.nan) for n in names for s in ("", "_err")}
        for i, T in enumerate(temps):
            here = [r for r in rows if r["L"] == L and r["T"] == T]
            for n in names:
                if here:
                    v = np.array([r["observables"][n]["mean"] for r in here])
                    e = np.array([r["observables"][n]["error"] or 0.0 for r in here])
                    cols[n][i], cols[f"{n}_err"][i] = _combine(v, e)
        table[L] = cols
    rng = np.random.default_rng(np.asarray(jax.random.key_data(k_resample)))
    crossings = []
    for small, large in zip(sizes[:-1], sizes[1:], strict=True):
        a, b = table[small], table[large]
        tc = curves_crossing(temps, a["binder"], b["binder"])
        draws = np.array(
            [
                curves_crossing(
                    temps,
                    a["binder"] + a["binder_err"] * rng.standard_normal(len(temps)),
                    b["binder"] + b["binder_err"] * rng.standard_normal(len(temps)),
                )
                for _ in range(config.n_resamples)
            ]
        )
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
    return BinderScan(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        status="completed" if sweep.ok else "interrupted",
        temperatures=temps,
        observables=table,
        crossings=crossings,
        sweep=sweep.summary(),
    )
