r"""One entry point for sampling the 2D Ising model with any of the package's algorithms.

:func:`simulate` runs independent chains of checkerboard Metropolis
(:mod:`~qml_phys.classical.metropolis`), Wolff or Swendsen–Wang
(:mod:`~qml_phys.classical.cluster`) at one temperature, discards a thermalisation
period, and returns the per-site energy and magnetization series with every observable
estimated with an autocorrelation-aware error (:mod:`~qml_phys.classical.observables`).

Work is counted in *sweeps*: one sweep is ``N = L^2`` attempted single-spin updates for
Metropolis, one update of every bond for Swendsen–Wang, and for Wolff as many cluster
flips as flip ``N`` spins on average (measured in a pilot run), so the three algorithms
are compared at equal work.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import numpy as np

from qml_phys.classical import cluster, metropolis
from qml_phys.classical.observables import ising_observables
from qml_phys.classical.statistics import Estimate
from qml_phys.errors import UnknownNameError, check_positive_int, check_temperature

ALGORITHMS = ("metropolis", "wolff", "swendsen-wang")


class Simulation(NamedTuple):
    """Result of :func:`simulate`.

    Attributes:
        L, T: lattice size and temperature.
        algorithm: one of :data:`ALGORITHMS`.
        energy: ``(n_chains, n_meas)`` float64 energy per site after thermalisation.
        magnetization: ``(n_chains, n_meas)`` float64 signed magnetization per site.
        spins: ``(n_chains, L, L)`` int8 final configurations.
        sweeps_per_measurement: work between measurements, in sweeps.
        steps_per_measurement: algorithm updates between measurements (Wolff: cluster flips).
        observables: name -> :class:`~qml_phys.classical.statistics.Estimate`.
    """

    L: int
    T: float
    algorithm: str
    energy: np.ndarray
    magnetization: np.ndarray
    spins: np.ndarray
    sweeps_per_measurement: float
    steps_per_measurement: int
    observables: dict[str, Estimate]


def check_algorithm(name: str) -> str:
    """Normalise an algorithm name (``swendsen_wang`` and ``sw`` are accepted)."""
    norm = str(name).strip().lower().replace("_", "-")
    norm = {"sw": "swendsen-wang"}.get(norm, norm)
    if norm not in ALGORITHMS:
        raise UnknownNameError(f"unknown algorithm {name!r}; expected one of {list(ALGORITHMS)}")
    return norm


def _tc(J: float) -> float:
    return 2.0 * abs(J) / math.log1p(math.sqrt(2.0))


def simulate(
    L: int,
    T: float,
    *,
    algorithm: str = "metropolis",
    n_sweeps: int = 10000,
    n_therm: int | None = None,
    n_chains: int = 4,
    seed: int = 0,
    measure_every: int = 1,
    J: float = 1.0,
    h: float = 0.0,
    key: jax.Array | None = None,
) -> Simulation:
    """Sample the ``L x L`` periodic Ising model at temperature ``T``.

    Args:
        L: linear size (even, >= 2, for Metropolis; >= 2 for cluster algorithms).
        T: temperature in units of ``|J|``, > 0.
        algorithm: ``"metropolis"``, ``"wolff"`` or ``"swendsen-wang"``.
        n_sweeps: measured sweeps per chain (after thermalisation).
        n_therm: discarded sweeps per chain (default ``max(200, n_sweeps // 5)``).
        n_chains: independent chains (their spread enters R-hat and the errors).
        seed: seed of the run (ignored when ``key`` is given).
        measure_every: sweeps between measurements; divides ``n_sweeps``.
        J, h: coupling and field (cluster algorithms need ``J > 0``, ``h = 0``).
        key: an explicit JAX PRNG key.

    Chains below ``T_c`` start ordered (with a random overall sign per chain), above it
    from random spins, which shortens thermalisation without biasing anything.
    """
    algorithm = check_algorithm(algorithm)
    T = check_temperature(T)
    L = check_positive_int("L", L, minimum=2)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    n_chains = check_positive_int("n_chains", n_chains)
    measure_every = check_positive_int("measure_every", measure_every)
    n_therm = (
        max(200, n_sweeps // 5)
        if n_therm is None
        else check_positive_int("n_therm", n_therm, minimum=0)
    )
    key = jax.random.key(seed) if key is None else key
    k_init, k_sign, k_therm, k_run = jax.random.split(key, 4)
    ordered = T < _tc(J) and h == 0.0
    if algorithm == "metropolis":
        spins = metropolis.init_spins(k_init, 1, n_chains, L, hot=not ordered)
        if ordered:
            sign = jax.random.rademacher(k_sign, (1, n_chains, 1, 1), dtype=np.int8)
            spins = spins * sign
        if n_therm:
            spins = metropolis.sweep(
                k_therm, spins, np.array([1.0 / T]), n_sweeps=n_therm, J=J, h=h
            )
        spins, trace = metropolis.run(
            k_run,
            spins,
            np.array([1.0 / T]),
            n_sweeps=n_sweeps,
            measure_every=measure_every,
            J=J,
            h=h,
        )
        e, m = np.asarray(trace.energy)[:, 0, :], np.asarray(trace.magnetization)[:, 0, :]
        steps, sweeps_per = measure_every, float(measure_every)
        final = np.asarray(spins)[0]
    else:
        from qml_phys.physics import Lattice

        lattice = Lattice.square(L)
        name = "wolff" if algorithm == "wolff" else "swendsen_wang"
        init = "up" if ordered else "random"
        if name == "wolff":
            pilot = cluster.run(
                k_therm,
                lattice,
                T,
                algorithm=name,
                n_chains=n_chains,
                n_therm=min(n_therm, 200),
                n_meas=200,
                J=J,
                h=h,
                init=init,
            )
            size = float(np.mean(pilot.mean_cluster_size))
            steps = max(1, round(measure_every * L * L / size))
            init = pilot.spins
            therm_steps = max(0, round(n_therm * L * L / size) - 400)
        else:
            steps, therm_steps = measure_every, n_therm
        res = cluster.run(
            k_run,
            lattice,
            T,
            algorithm=name,
            n_chains=n_chains,
            n_therm=therm_steps,
            n_meas=n_sweeps // measure_every,
            steps_per_meas=steps,
            J=J,
            h=h,
            init=init,
        )
        e = np.asarray(res.energy)[:, 0, :]
        m = np.asarray(res.magnetization)[:, 0, :]
        final = np.asarray(res.spins)[0]
        if name == "wolff":
            sweeps_per = steps * float(np.mean(res.mean_cluster_size)) / (L * L)
        else:
            sweeps_per = float(steps)
    e = e.T.astype(np.float64)
    m = m.T.astype(np.float64)
    obs = ising_observables(e, m, T=T, n_sites=L * L, warn=False)
    return Simulation(L, T, algorithm, e, m, final, sweeps_per, int(steps), obs)


def temperature_scan(
    L: int,
    temperatures,
    *,
    algorithm: str = "metropolis",
    n_sweeps: int = 4000,
    n_therm: int | None = None,
    n_chains: int = 4,
    measure_every: int = 1,
    seed: int = 0,
    J: float = 1.0,
    key: jax.Array | None = None,
) -> dict[str, np.ndarray]:
    """Observables with errors across a temperature grid at one ``L``, in one compiled,
    vectorised run (all temperatures and chains at once).

    Metropolis chains below ``T_c`` start ordered (random overall sign), above it random.
    For Wolff the number of cluster flips per measurement is set from a pilot run so that a
    measurement costs about one sweep at the median cluster size.

    Returns a dict of ``(n_T,)`` arrays: ``T``, ``sweeps_per_measurement``, and for every
    observable of :func:`~qml_phys.classical.observables.ising_observables` ``<name>``
    (mean), ``<name>_error`` and ``<name>_tau_int`` (in sweeps).
    """
    algorithm = check_algorithm(algorithm)
    temps = np.array([check_temperature(t) for t in np.atleast_1d(temperatures)])
    L = check_positive_int("L", L, minimum=2)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    n_chains = check_positive_int("n_chains", n_chains)
    n_therm = (
        max(200, n_sweeps // 5)
        if n_therm is None
        else check_positive_int("n_therm", n_therm, minimum=0)
    )
    key = jax.random.key(seed) if key is None else key
    k_init, k_sign, k_therm, k_run = jax.random.split(key, 4)
    betas = 1.0 / temps
    if algorithm == "metropolis":
        hot = metropolis.init_spins(k_init, len(temps), n_chains, L, hot=True)
        sign = jax.random.rademacher(k_sign, (len(temps), n_chains, 1, 1), dtype=np.int8)
        ordered = (temps < _tc(J))[:, None, None, None]
        spins = np.where(ordered, np.asarray(sign) * np.ones_like(hot), np.asarray(hot))
        if n_therm:
            spins = metropolis.sweep(k_therm, spins, betas, n_sweeps=n_therm, J=J)
        _, trace = metropolis.run(
            k_run, spins, betas, n_sweeps=n_sweeps, measure_every=measure_every, J=J
        )
        e, m = np.asarray(trace.energy), np.asarray(trace.magnetization)
        sweeps_per = np.full(len(temps), float(measure_every))
    else:
        from qml_phys.physics import Lattice

        lattice = Lattice.square(L)
        name = "wolff" if algorithm == "wolff" else "swendsen_wang"
        init = np.where((temps < _tc(J))[:, None, None, None], 1, 0) * np.ones(
            (len(temps), n_chains, L, L), np.int8
        )
        init = np.where(
            init == 1,
            1,
            np.asarray(metropolis.init_spins(k_init, len(temps), n_chains, L + L % 2, hot=True))[
                ..., :L, :L
            ],
        ).astype(np.int8)
        steps = measure_every
        if name == "wolff":
            pilot = cluster.run(
                k_therm,
                lattice,
                temps,
                algorithm=name,
                n_chains=n_chains,
                n_therm=0,
                n_meas=max(50, n_therm),
                J=J,
                init=init,
            )
            sizes = np.asarray(pilot.mean_cluster_size).mean(axis=1)
            steps = max(1, round(measure_every * L * L / float(np.median(sizes))))
            init, n_therm_steps = np.asarray(pilot.spins), 0
        else:
            n_therm_steps = n_therm
        res = cluster.run(
            k_run,
            lattice,
            temps,
            algorithm=name,
            n_chains=n_chains,
            n_therm=n_therm_steps,
            n_meas=n_sweeps // measure_every,
            steps_per_meas=steps,
            J=J,
            init=init,
        )
        e, m = np.asarray(res.energy), np.asarray(res.magnetization)
        if name == "wolff":
            sweeps_per = steps * np.asarray(res.mean_cluster_size).mean(axis=1) / (L * L)
        else:
            sweeps_per = np.full(len(temps), float(steps))
    out: dict[str, np.ndarray] = {"T": temps, "sweeps_per_measurement": sweeps_per}
    per_T = [
        ising_observables(
            e[:, i, :].T.astype(np.float64),
            m[:, i, :].T.astype(np.float64),
            T=float(T),
            n_sites=L * L,
            warn=False,
        )
        for i, T in enumerate(temps)
    ]
    for name in per_T[0]:
        out[name] = np.array([o[name].mean for o in per_T])
        out[f"{name}_error"] = np.array([o[name].error for o in per_T])
        out[f"{name}_tau_int"] = np.array([o[name].tau_int for o in per_T]) * sweeps_per
    return out


def binder_crossing(T: np.ndarray, u_small: np.ndarray, u_large: np.ndarray) -> float:
    """Temperature where two Binder-cumulant curves cross (linear interpolation between the
    grid points around a sign change of ``u_large - u_small``; the middle one if noise makes
    several; nan if they do not cross)."""
    T = np.asarray(T, np.float64)
    d = np.asarray(u_large, np.float64) - np.asarray(u_small, np.float64)
    found = [float(T[i]) for i in np.nonzero(d == 0)[0]]
    found += [
        float(T[i] - d[i] * (T[i + 1] - T[i]) / (d[i + 1] - d[i]))
        for i in np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
    ]
    return sorted(found)[len(found) // 2] if found else float("nan")
