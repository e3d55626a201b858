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

import dataclasses
import time
from typing import NamedTuple

import jax
import numpy as np

from qml_phys.classical.observables import ising_observables, observables_to_dict
from qml_phys.classical.samplers import make_sampler
from qml_phys.errors import (
    InvalidParameterError,
    UnknownNameError,
    check_positive_int,
    check_temperature,
)
from qml_phys.runtime.results import Result
from qml_phys.stats.estimate import Estimate
from qml_phys.stats.fits import curves_crossing as binder_crossing  # noqa: F401 - old name

__all__ = [
    "ALGORITHMS",
    "Simulation",
    "SimulationConfig",
    "TemperatureScan",
    "binder_crossing",
    "check_algorithm",
    "simulate",
    "temperature_scan",
]

ALGORITHMS = ("metropolis", "wolff", "swendsen-wang")


def check_algorithm(name: str) -> str:
    """Normalise an algorithm name (``swendsen_wang`` and ``sw`` are accepted)."""
    norm = str(name).strip().lower().replace("_", "-")
    norm = {"sw": "swendsen-wang"}.get(norm, norm)
    if norm not in ALGORITHMS:
        raise UnknownNameError(f"unknown algorithm {name!r}; expected one of {list(ALGORITHMS)}")
    return norm


@dataclasses.dataclass(frozen=True)
class SimulationConfig:
    """How to sample: the algorithm and the amount of work.

    Attributes:
        algorithm: ``"metropolis"``, ``"wolff"`` or ``"swendsen-wang"``.
        n_sweeps: measured sweeps per chain (after thermalisation).
        n_therm: discarded sweeps per chain (``None``: ``max(200, n_sweeps // 5)``).
        n_chains: independent chains (their spread enters R-hat and the errors).
        measure_every: sweeps between measurements; divides ``n_sweeps``.
    """

    algorithm: str = "metropolis"
    n_sweeps: int = 10000
    n_therm: int | None = None
    n_chains: int = 4
    measure_every: int = 1

    def __post_init__(self):
        object.__setattr__(self, "algorithm", check_algorithm(self.algorithm))
        object.__setattr__(self, "n_sweeps", check_positive_int("n_sweeps", self.n_sweeps))
        object.__setattr__(self, "n_chains", check_positive_int("n_chains", self.n_chains))
        every = check_positive_int("measure_every", self.measure_every)
        object.__setattr__(self, "measure_every", every)
        n_therm = max(200, self.n_sweeps // 5) if self.n_therm is None else self.n_therm
        object.__setattr__(self, "n_therm", check_positive_int("n_therm", n_therm, minimum=0))


def _model(model_or_L):
    """``(model, L)``: an Ising model on a periodic square lattice, or an int ``L`` for the
    zero-field ferromagnet ``J = 1`` on the ``L x L`` torus."""
    from qml_phys.physics import IsingModel, Lattice

    if isinstance(model_or_L, IsingModel):
        lat = model_or_L.lattice
        if lat.kind != "square" or not lat.pbc:
            raise InvalidParameterError(
                f"expected an Ising model on a periodic square lattice; got {lat}"
            )
        return model_or_L, lat.L
    L = check_positive_int("L", model_or_L, minimum=2)
    return IsingModel(Lattice.square(L)), L


@dataclasses.dataclass(frozen=True, kw_only=True)
class Simulation(Result):
    """Result of :func:`simulate` (``history``: empty; the series are below).

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

    reported = ("L", "T", "algorithm", "sweeps_per_measurement")

    def summary(self) -> dict:
        """Observables with errors and ``tau_int``, the work per measurement, the run."""
        obs = observables_to_dict(self.observables)
        return super().summary() | {
            "observables": obs,
            "tau_int": {k: v["tau_int"] for k, v in obs.items()},
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class TemperatureScan(Result):
    """Result of :func:`temperature_scan`: ``(n_T,)`` columns by name, also as ``scan[name]``.

    Columns: ``T``, ``sweeps_per_measurement``, and for every observable of
    :func:`~qml_phys.classical.observables.ising_observables` ``<name>`` (mean),
    ``<name>_error`` and ``<name>_tau_int`` (in sweeps).
    """

    L: int
    columns: dict[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __iter__(self):
        return iter(self.columns)

    def keys(self):
        """The column names."""
        return self.columns.keys()

    def summary(self) -> dict:
        """The columns as lists, and the run."""
        return super().summary() | {"L": self.L} | {k: v.tolist() for k, v in self.columns.items()}


class _Chains(NamedTuple):
    energy: np.ndarray  # (n_meas, n_T, n_chains) float64
    magnetization: np.ndarray  # (n_meas, n_T, n_chains) float64
    spins: np.ndarray  # (n_T, n_chains, L, L) int8
    sweeps_per_measurement: np.ndarray  # (n_T,)
    steps_per_measurement: int


def _run_chains(model, temps, *, config: SimulationConfig, key) -> _Chains:
    """Thermalise and measure ``config.n_chains`` chains at every temperature in one
    vectorised run of the sampler ``config.algorithm`` (see
    :mod:`~qml_phys.classical.samplers` for the start and the work per sweep)."""
    sampler = make_sampler(config.algorithm)
    state = sampler.init(model, temps, config.n_chains, key=key)
    state = sampler.sweep(model, state, n_sweeps=config.n_therm)
    state, trace = sampler.sample(
        model, state, n_sweeps=config.n_sweeps, measure_every=config.measure_every
    )
    return _Chains(
        np.asarray(trace.energy, np.float64),
        np.asarray(trace.magnetization, np.float64),
        np.asarray(state.spins),
        np.asarray(trace.sweeps_per_measurement, np.float64),
        int(trace.steps_per_measurement),
    )


def simulate(
    model,
    T: float,
    config: SimulationConfig = SimulationConfig(),
    *,
    key: jax.Array,
) -> Simulation:
    """Sample the Ising model on the ``L x L`` torus at temperature ``T``.

    Args:
        model: an :class:`~qml_phys.physics.models.IsingModel` on a periodic square
            lattice (``L`` even for Metropolis; cluster algorithms need ``J > 0``,
            ``h = 0``), or an int ``L`` for the zero-field ferromagnet with ``J = 1``.
        T: temperature in units of ``|J|``, > 0.
        config: the algorithm and the work (:class:`SimulationConfig`).
        key: JAX PRNG key.

    Chains below ``T_c`` start ordered (with a random overall sign per chain), above it
    from random spins, which shortens thermalisation without biasing anything.
    """
    t0 = time.perf_counter()
    model, L = _model(model)
    T = check_temperature(T)
    run = _run_chains(model, np.array([T]), config=config, key=key)
    e, m = run.energy[:, 0, :].T, run.magnetization[:, 0, :].T
    obs = ising_observables(e, m, T=T, n_sites=L * L, warn=False)
    return Simulation(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        L=L,
        T=T,
        algorithm=config.algorithm,
        energy=e,
        magnetization=m,
        spins=run.spins[0],
        sweeps_per_measurement=float(run.sweeps_per_measurement[0]),
        steps_per_measurement=run.steps_per_measurement,
        observables=obs,
    )


def temperature_scan(
    model,
    temperatures,
    config: SimulationConfig = SimulationConfig(n_sweeps=4000),
    *,
    key: jax.Array,
) -> TemperatureScan:
    """Observables with errors across a temperature grid in one compiled, vectorised run
    (all temperatures and chains at once; ``model`` and ``config`` as in :func:`simulate`,
    zero field only)."""
    t0 = time.perf_counter()
    model, L = _model(model)
    if model.h != 0.0:
        raise InvalidParameterError(f"temperature_scan samples at h = 0; got h = {model.h}")
    temps = np.array([check_temperature(t) for t in np.atleast_1d(temperatures)])
    run = _run_chains(model, temps, config=config, key=key)
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
    return TemperatureScan(config=config, wall_time_s=time.perf_counter() - t0, L=L, columns=out)
