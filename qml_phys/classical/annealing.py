r"""Simulated annealing for the ground state of an Ising energy on any graph or lattice
(S. Kirkpatrick, C. D. Gelatt and M. P. Vecchi, Science 220, 671 (1983),
doi:10.1126/science.220.4598.671).

One single-spin Metropolis sweep (:mod:`~qml_phys.classical.graph_metropolis`, the same
sweeps the samplers use) per temperature of a geometric or linear schedule from ``T_start``
down to ``T_end``, ``n_restarts`` independent runs in one ``vmap``; :func:`anneal` returns
the best energy and configuration seen (after any sweep) and the energy trace. Any
diagonal model of :mod:`qml_phys.physics.models` (MaxCut, spin glasses, ferromagnets) or an
:class:`~qml_phys.classical.graph_metropolis.IsingProblem`.
"""

from __future__ import annotations

import dataclasses
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.classical import graph_metropolis as gm
from qml_phys.errors import (
    InvalidParameterError,
    check_name,
    check_positive_int,
    check_temperature,
)
from qml_phys.runtime.results import Result

__all__ = ["SCHEDULES", "AnnealConfig", "AnnealResult", "anneal", "temperature_schedule"]

SCHEDULES = ("geometric", "linear")


@partial(jax.jit, static_argnames=("order",))
def _anneal_impl(key, spins, betas, t: gm.Tables, *, order):
    """spins ``(R, n)``, betas ``(n_sweeps,)``. Returns per-restart best energy, best
    spins and the ``(n_sweeps, R)`` energy trace."""
    n_restarts = spins.shape[0]
    sweep = jax.vmap(partial(gm.sweep, t=t, order=order), in_axes=(0, 0, None))
    energy = jax.vmap(partial(gm.energy, t=t))

    def step(carry, xs):
        spins, best_e, best_s = carry
        i, beta = xs
        keys = jax.random.split(jax.random.fold_in(key, i), n_restarts)
        spins = sweep(keys, spins, beta)
        e = energy(spins)
        better = e < best_e
        best_e = jnp.where(better, e, best_e)
        best_s = jnp.where(better[:, None], spins, best_s)
        return (spins, best_e, best_s), e

    e0 = energy(spins)
    idx = jnp.arange(betas.shape[0], dtype=jnp.int32)
    (spins, best_e, best_s), trace = jax.lax.scan(step, (spins, e0, spins), (idx, betas))
    return best_e, best_s, trace


def temperature_schedule(T_start: float, T_end: float, n_sweeps: int, kind: str = "geometric"):
    """Temperatures ``(n_sweeps,)`` float64 from ``T_start`` down to ``T_end``.

    ``"geometric"``: ``T_k = T_start (T_end / T_start)^(k / (n_sweeps - 1))``;
    ``"linear"``: equal steps. Requires ``T_start >= T_end > 0``.
    """
    T_start = check_temperature(T_start, "T_start")
    T_end = check_temperature(T_end, "T_end")
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    check_name("schedule", kind, SCHEDULES)
    if T_end > T_start:
        raise InvalidParameterError(
            f"annealing cools: expected T_end <= T_start; got T_start={T_start}, T_end={T_end}"
        )
    x = np.arange(n_sweeps) / max(n_sweeps - 1, 1)
    if kind == "geometric":
        return T_start * (T_end / T_start) ** x
    return T_start + (T_end - T_start) * x


@dataclasses.dataclass(frozen=True)
class AnnealConfig:
    """Settings of :func:`anneal`.

    Attributes:
        n_sweeps: sweeps, one per temperature of the schedule.
        T_start: initial temperature (energy units); ``None``: the problem's largest local
            field (:meth:`~qml_phys.classical.graph_metropolis.IsingProblem.max_local_field`),
            where every flip is accepted with probability at least ``e^-2``.
        T_end: final temperature; ``None``: ``T_start / 1000``.
        n_restarts: independent runs from random configurations (one ``vmap``).
        schedule: ``"geometric"`` or ``"linear"``.
        order: the sweep's site order (``"random"``, ``"sequential"`` -- not ergodic, see
            :mod:`~qml_phys.classical.graph_metropolis` -- or ``"checkerboard"``).
    """

    n_sweeps: int = 1000
    T_start: float | None = None
    T_end: float | None = None
    n_restarts: int = 16
    schedule: str = "geometric"
    order: str = "random"

    def __post_init__(self):
        object.__setattr__(self, "n_sweeps", check_positive_int("n_sweeps", self.n_sweeps))
        object.__setattr__(self, "n_restarts", check_positive_int("n_restarts", self.n_restarts))
        check_name("schedule", self.schedule, SCHEDULES)
        check_name("order", self.order, gm.ORDERS)
        for name in ("T_start", "T_end"):
            if getattr(self, name) is not None:
                check_temperature(getattr(self, name), name)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnnealResult(Result):
    """Result of :func:`anneal` (``history["energy"]``: the lowest energy over restarts
    after each sweep).

    Attributes:
        best_energy: lowest energy found (float64, exact for ``best_spins``).
        best_spins: ``(n_sites,)`` int8 configuration with ``best_energy``.
        energies: ``(n_restarts,)`` float64 best energy of each restart.
        spins: ``(n_restarts, n_sites)`` int8 best configuration of each restart.
        trace: ``(n_sweeps, n_restarts)`` float32 energy after each sweep.
        temperatures: ``(n_sweeps,)`` float64 schedule.
    """

    best_energy: float
    best_spins: np.ndarray
    energies: np.ndarray
    spins: np.ndarray
    trace: jax.Array
    temperatures: np.ndarray

    reported = ("best_energy",)

    def summary(self) -> dict:
        """The best energy and how many restarts reached it."""
        hits = int(np.sum(np.isclose(self.energies, self.best_energy, rtol=0, atol=1e-9)))
        return super().summary() | {
            "restarts_at_best": hits,
            "n_restarts": int(len(self.energies)),
        }


def anneal(model, config: AnnealConfig = AnnealConfig(), *, key) -> AnnealResult:
    r"""Simulated annealing for the ground state of an Ising problem.

    Args:
        model: any diagonal model, an :class:`~qml_phys.classical.graph_metropolis.IsingProblem`
            or ``(edges, couplings[, fields])`` (see
            :func:`~qml_phys.classical.graph_metropolis.ising_problem`).
        config: :class:`AnnealConfig`.
        key: JAX PRNG key.

    Returns:
        :class:`AnnealResult`.
    """
    t0 = time.perf_counter()
    problem = gm.ising_problem(model)
    T_start = config.T_start
    if T_start is None:
        T_start = max(problem.max_local_field(), 1e-12)
    T_end = config.T_end
    if T_end is None:
        T_end = min(check_temperature(T_start, "T_start") / 1000.0, T_start)
    temps = temperature_schedule(T_start, T_end, config.n_sweeps, config.schedule)
    k_init, k_run = jax.random.split(key)
    spins = gm.random_spins(k_init, (config.n_restarts, problem.n_sites))
    betas = jnp.asarray(1.0 / temps, jnp.float32)
    _, best_s, trace = _anneal_impl(k_run, spins, betas, gm.tables(problem), order=config.order)
    best_s = np.asarray(best_s)
    energies = problem.energy(best_s)
    i = int(np.argmin(energies))
    return AnnealResult(
        config=config,
        history={"energy": np.asarray(trace, np.float64).min(axis=1)},
        wall_time_s=time.perf_counter() - t0,
        best_energy=float(energies[i]),
        best_spins=best_s[i],
        energies=energies,
        spins=best_s,
        trace=trace,
        temperatures=temps,
    )
