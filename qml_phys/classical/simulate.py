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

from typing import NamedTuple

import jax
import numpy as np

from qml_phys.classical import cluster, metropolis
from qml_phys.classical.observables import ising_observables, observables_to_dict
from qml_phys.classical.statistics import Estimate
from qml_phys.errors import UnknownNameError, check_positive_int, check_temperature
from qml_phys.physics.exact import onsager_tc

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


class _Chains(NamedTuple):
    energy: np.ndarray  # (n_meas, n_T, n_chains) float64
    magnetization: np.ndarray  # (n_meas, n_T, n_chains) float64
    spins: np.ndarray  # (n_T, n_chains, L, L) int8
    sweeps_per_measurement: np.ndarray  # (n_T,)
    steps_per_measurement: int


def _run_chains(L, temps, *, algorithm, n_sweeps, n_therm, n_chains, measure_every, J, h, key):
    """Thermalise and measure ``n_chains`` chains at every temperature in one vectorised run.

    Chains below ``T_c`` (at ``h = 0``) start ordered with a random overall sign per chain,
    the others from random spins: this shortens thermalisation and biases nothing. Wolff
    measures every ``steps`` cluster flips, with ``steps`` chosen from a pilot run (which
    also thermalises) so that a measurement costs about ``measure_every`` sweeps at the
    median cluster size.
    """
    k_init, k_sign, k_therm, k_run = jax.random.split(key, 4)
    n_T = len(temps)
    hot = np.asarray(metropolis.init_spins(k_init, n_T, n_chains, L + L % 2, hot=True))
    hot = hot[..., :L, :L]
    sign = np.asarray(jax.random.rademacher(k_sign, (n_T, n_chains, 1, 1), dtype=np.int8))
    ordered = ((temps < onsager_tc(abs(J))) & (h == 0.0))[:, None, None, None]
    spins = np.where(ordered, sign * np.ones_like(hot), hot).astype(np.int8)
    betas = 1.0 / temps
    n_meas = n_sweeps // measure_every
    if algorithm == "metropolis":
        if n_therm:
            spins = metropolis.sweep(k_therm, spins, betas, n_sweeps=n_therm, J=J, h=h)
        spins, trace = metropolis.run(
            k_run, spins, betas, n_sweeps=n_sweeps, measure_every=measure_every, J=J, h=h
        )
        e, m, steps = trace.energy, trace.magnetization, measure_every
        sweeps_per = np.full(n_T, float(measure_every))
    else:
        from qml_phys.physics import Lattice

        lattice = Lattice.square(L)
        name = "wolff" if algorithm == "wolff" else "swendsen_wang"
        steps, n_therm_steps = measure_every, n_therm
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
                h=h,
                init=spins,
            )
            sizes = np.asarray(pilot.mean_cluster_size).mean(axis=1)
            steps = max(1, round(measure_every * L * L / float(np.median(sizes))))
            spins, n_therm_steps = np.asarray(pilot.spins), 0
        res = cluster.run(
            k_run,
            lattice,
            temps,
            algorithm=name,
            n_chains=n_chains,
            n_therm=n_therm_steps,
            n_meas=n_meas,
            steps_per_meas=steps,
            J=J,
            h=h,
            init=spins,
        )
        e, m, spins = res.energy, res.magnetization, res.spins
        if name == "wolff":
            sweeps_per = steps * np.asarray(res.mean_cluster_size).mean(axis=1) / (L * L)
        else:
            sweeps_per = np.full(n_T, float(steps))
    return _Chains(
        np.asarray(e, np.float64),
        np.asarray(m, np.float64),
        np.asarray(spins),
        np.asarray(sweeps_per, np.float64),
        int(steps),
    )


def _check_run(L, n_sweeps, n_therm, n_chains, measure_every):
    L = check_positive_int("L", L, minimum=2)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    n_chains = check_positive_int("n_chains", n_chains)
    measure_every = check_positive_int("measure_every", measure_every)
    if n_therm is None:
        n_therm = max(200, n_sweeps // 5)
    n_therm = check_positive_int("n_therm", n_therm, minimum=0)
    return L, n_sweeps, n_therm, n_chains, measure_every


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
    L, n_sweeps, n_therm, n_chains, measure_every = _check_run(
        L, n_sweeps, n_therm, n_chains, measure_every
    )
    key = jax.random.key(seed) if key is None else key
    run = _run_chains(
        L,
        np.array([T]),
        algorithm=algorithm,
        n_sweeps=n_sweeps,
        n_therm=n_therm,
        n_chains=n_chains,
        measure_every=measure_every,
        J=J,
        h=h,
        key=key,
    )
    e, m = run.energy[:, 0, :].T, run.magnetization[:, 0, :].T
    obs = ising_observables(e, m, T=T, n_sites=L * L, warn=False)
    return Simulation(
        L,
        T,
        algorithm,
        e,
        m,
        run.spins[0],
        float(run.sweeps_per_measurement[0]),
        run.steps_per_measurement,
        obs,
    )


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
    vectorised run (all temperatures and chains at once; same options as :func:`simulate`).

    Returns a dict of ``(n_T,)`` arrays: ``T``, ``sweeps_per_measurement``, and for every
    observable of :func:`~qml_phys.classical.observables.ising_observables` ``<name>``
    (mean), ``<name>_error`` and ``<name>_tau_int`` (in sweeps).
    """
    algorithm = check_algorithm(algorithm)
    temps = np.array([check_temperature(t) for t in np.atleast_1d(temperatures)])
    L, n_sweeps, n_therm, n_chains, measure_every = _check_run(
        L, n_sweeps, n_therm, n_chains, measure_every
    )
    key = jax.random.key(seed) if key is None else key
    run = _run_chains(
        L,
        temps,
        algorithm=algorithm,
        n_sweeps=n_sweeps,
        n_therm=n_therm,
        n_chains=n_chains,
        measure_every=measure_every,
        J=J,
        h=0.0,
        key=key,
    )
    per_T = [
        ising_observables(
            run.energy[:, i, :].T,
            run.magnetization[:, i, :].T,
            T=float(T),
            n_sites=L * L,
            warn=False,
        )
        for i, T in enumerate(temps)
    ]
    out: dict[str, np.ndarray] = {"T": temps, "sweeps_per_measurement": run.sweeps_per_measurement}
    for name in per_T[0]:
        out[name] = np.array([o[name].mean for o in per_T])
        out[f"{name}_error"] = np.array([o[name].error for o in per_T])
        out[f"{name}_tau_int"] = (
            np.array([o[name].tau_int for o in per_T]) * run.sweeps_per_measurement
        )
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


def observables_point(
    L: int,
    T: float,
    *,
    seed: int = 0,
    algorithm: str = "wolff",
    n_sweeps: int = 2000,
    n_chains: int = 4,
    J: float = 1.0,
) -> dict:
    """One sweep job (see :mod:`qml_phys.runtime.sweep`): :func:`simulate` at ``(L, T)``,
    returned as JSON-able observables with errors (``observables_to_dict``)."""
    sim = simulate(L, T, algorithm=algorithm, n_sweeps=n_sweeps, n_chains=n_chains, seed=seed, J=J)
    return {"L": L, "T": T, "seed": seed, "observables": observables_to_dict(sim.observables)}
