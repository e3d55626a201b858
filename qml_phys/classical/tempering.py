r"""Parallel tempering (replica exchange) for an Ising energy on any graph or lattice.

Replicas at ``T_1 < ... < T_K``, one single-spin Metropolis sweep each
(:mod:`~qml_phys.classical.graph_metropolis`), then swaps of neighbouring temperatures with
probability :math:`\min(1, e^{(\beta_k - \beta_{k+1})(E_k - E_{k+1})})`, pairs ``(0,1),
(2,3), ...`` after even sweeps and ``(1,2), (3,4), ...`` after odd ones (R. H. Swendsen and
J.-S. Wang, PRL 57, 2607 (1986), doi:10.1103/PhysRevLett.57.2607; K. Hukushima and K.
Nemoto, J. Phys. Soc. Jpn. 65, 1604 (1996), arXiv:cond-mat/9512035). Each pair is one
Metropolis move in the joint space, so the product of Boltzmann distributions is stationary.

:class:`~qml_phys.classical.samplers.ParallelTempering` is the sampler (its kernel,
:func:`~qml_phys.classical.graph_metropolis.tempering_sweeps`, sits with the single-spin
sweeps); :func:`parallel_tempering` runs it from random spins and keeps the best
configuration seen.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np

from qml_phys.classical import graph_metropolis as gm
from qml_phys.errors import check_positive_int
from qml_phys.runtime.results import Result

__all__ = ["PTConfig", "PTResult", "parallel_tempering"]


@dataclasses.dataclass(frozen=True)
class PTConfig:
    """Settings of :func:`parallel_tempering`.

    Attributes:
        n_chains: independent replica sets (one ``vmap``).
        n_therm: sweeps (each followed by a swap attempt) before measuring.
        n_sweeps: measured sweeps (each followed by a swap attempt).
        measure_every: sweeps between measurements; divides ``n_sweeps``.
        order: the single-spin sweep (``"random"``, ``"sequential"`` or ``"checkerboard"``).
    """

    n_chains: int = 1
    n_therm: int = 100
    n_sweeps: int = 1000
    measure_every: int = 1
    order: str = "random"

    def __post_init__(self):
        for name in ("n_chains", "n_sweeps", "measure_every"):
            object.__setattr__(self, name, check_positive_int(name, getattr(self, name)))
        object.__setattr__(self, "n_therm", check_positive_int("n_therm", self.n_therm, minimum=0))


@dataclasses.dataclass(frozen=True, kw_only=True)
class PTResult(Result):
    """Result of :func:`parallel_tempering`.

    Attributes:
        temperatures: ``(K,)`` float64, increasing.
        energy: ``(n_meas, K, n_chains)`` float32 total energy (model units) of the
            configuration at each temperature.
        magnetization: ``(n_meas, K, n_chains)`` float32 signed magnetization per site.
        swap_acceptance: ``(K-1,)`` float64 fraction of accepted swaps between temperatures
            ``k`` and ``k+1`` (thermalisation excluded).
        spins: ``(K, n_chains, n_sites)`` int8 final configurations by temperature.
        best_energy: lowest energy seen at any temperature (float64, exact).
        best_spins: ``(n_sites,)`` int8 configuration with ``best_energy``.
    """

    temperatures: np.ndarray
    energy: jax.Array
    magnetization: jax.Array
    swap_acceptance: np.ndarray
    spins: jax.Array
    best_energy: float
    best_spins: np.ndarray

    reported = ("best_energy",)

    def summary(self) -> dict:
        """Temperatures, swap acceptances and the best energy."""
        return super().summary() | {
            "temperatures": self.temperatures.tolist(),
            "swap_acceptance": self.swap_acceptance.tolist(),
        }


def parallel_tempering(model, temperatures, config: PTConfig = PTConfig(), *, key) -> PTResult:
    """Parallel tempering of ``model`` (any diagonal model) from random spins.

    Args:
        model: see :func:`~qml_phys.classical.graph_metropolis.ising_problem`.
        temperatures: ``(K,)`` strictly increasing temperatures > 0, ``K >= 2``.
        config: :class:`PTConfig`.
        key: JAX PRNG key.
    """
    from qml_phys.classical.samplers import ParallelTempering

    t0 = time.perf_counter()
    problem = gm.ising_problem(model)  # the samplers take the problem as a model
    sampler = ParallelTempering(order=config.order)
    state = sampler.init(problem, temperatures, config.n_chains, key=key, start="random")
    state = sampler.sweep(problem, state, n_sweeps=config.n_therm)
    state, trace = sampler.sample(
        problem, state, n_sweeps=config.n_sweeps, measure_every=config.measure_every
    )
    n = problem.n_sites
    best_s = trace.extra["best_spins"]
    best_e = float(problem.energy(best_s))
    return PTResult(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        temperatures=1.0 / state.betas,
        energy=trace.energy * n,
        magnetization=trace.magnetization,
        swap_acceptance=trace.extra["swap_acceptance"],
        spins=state.spins.reshape(state.spins.shape[:2] + (n,)),
        best_energy=best_e,
        best_spins=best_s,
    )
