r"""Parallel tempering (replica exchange) for an Ising energy on any graph or lattice.

Replicas at ``T_1 < ... < T_K``, one single-spin Metropolis sweep each
(:mod:`~qml_phys.classical.graph_metropolis`), then swaps of neighbouring temperatures with
probability :math:`\min(1, e^{(\beta_k - \beta_{k+1})(E_k - E_{k+1})})`, pairs ``(0,1),
(2,3), ...`` after even sweeps and ``(1,2), (3,4), ...`` after odd ones (R. H. Swendsen and
J.-S. Wang, PRL 57, 2607 (1986), doi:10.1103/PhysRevLett.57.2607; K. Hukushima and K.
Nemoto, J. Phys. Soc. Jpn. 65, 1604 (1996), arXiv:cond-mat/9512035). Each pair is one
Metropolis move in the joint space, so the product of Boltzmann distributions is stationary.

:class:`~qml_phys.classical.samplers.ParallelTempering` is the sampler;
:func:`parallel_tempering` runs it from random spins and keeps the best configuration seen.
"""

from __future__ import annotations

import dataclasses
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.classical import graph_metropolis as gm
from qml_phys.errors import check_positive_int
from qml_phys.runtime.results import Result

__all__ = ["PTConfig", "PTResult", "parallel_tempering", "run_tempering"]


def _swap(key, spins, energies, betas, parity):
    """Neighbour swaps of one chain: ``spins (K, n)``, ``energies (K,)``, ``betas (K,)``.

    Returns new spins, energies and ``(K-1,)`` float32 accepted flags of the pairs
    ``(k, k+1)`` with ``k % 2 == parity``."""
    n_temps = betas.shape[0]
    k = jnp.arange(n_temps - 1, dtype=jnp.int32)
    log_ratio = (betas[:-1] - betas[1:]) * (energies[:-1] - energies[1:])
    u = jax.random.uniform(key, (n_temps - 1,), jnp.float32)
    accept = (k % 2 == parity) & (u < jnp.exp(log_ratio))
    zero = jnp.zeros((1,), bool)
    up = jnp.concatenate([accept, zero]).astype(jnp.int32)  # slot k takes slot k+1
    down = jnp.concatenate([zero, accept]).astype(jnp.int32)  # slot k+1 takes slot k
    perm = jnp.arange(n_temps, dtype=jnp.int32) + up - down
    return spins[perm], energies[perm], accept.astype(jnp.float32)


@partial(jax.jit, static_argnames=("order", "n_meas", "measure_every"))
def _pt_impl(key, spins, betas, t: gm.Tables, start, *, order, n_meas, measure_every):
    """spins ``(C, K, n)``; betas ``(K,)`` float32. Sweep, then swap, every sweep."""
    n_chains, n_temps = spins.shape[:2]
    sweep = jax.vmap(
        jax.vmap(partial(gm.sweep, t=t, order=order), in_axes=(0, 0, 0)), in_axes=(0, 0, None)
    )
    energy = jax.vmap(jax.vmap(partial(gm.energy, t=t)))
    swap = jax.vmap(_swap, in_axes=(0, 0, 0, None, None))

    def one_sweep(tt, carry):
        spins, accepted, attempted, best_e, best_s = carry
        k_sweep, k_swap = jax.random.split(jax.random.fold_in(key, tt))
        keys = jax.random.split(k_sweep, (n_chains, n_temps))
        spins = sweep(keys, spins, betas)
        e = energy(spins)
        flat_e = e.reshape(-1)
        i = jnp.argmin(flat_e)
        better = flat_e[i] < best_e
        best_e = jnp.where(better, flat_e[i], best_e)
        best_s = jnp.where(better, spins.reshape(-1, spins.shape[-1])[i], best_s)
        parity = (start + tt) % 2
        spins, e, acc = swap(jax.random.split(k_swap, n_chains), spins, e, betas, parity)
        pairs = jnp.arange(n_temps - 1, dtype=jnp.int32)
        attempted = attempted + (pairs % 2 == parity).astype(jnp.float32) * n_chains
        return spins, accepted + jnp.sum(acc, axis=0), attempted, best_e, best_s

    zeros = jnp.zeros((n_temps - 1,), jnp.float32)
    e0 = energy(spins).reshape(-1)
    carry = (spins, zeros, zeros, jnp.min(e0), spins.reshape(-1, spins.shape[-1])[jnp.argmin(e0)])

    def measure(carry, i):
        first = i * measure_every
        carry = jax.lax.fori_loop(first, first + measure_every, one_sweep, carry)
        spins = carry[0]
        e = energy(spins)
        m = jnp.sum(spins, axis=-1, dtype=jnp.int32).astype(jnp.float32) / spins.shape[-1]
        return carry, (e.T, m.T)

    carry, (e, m) = jax.lax.scan(measure, carry, jnp.arange(n_meas, dtype=jnp.int32))
    spins, accepted, attempted, best_e, best_s = carry
    return e, m, accepted, attempted, spins, best_s


def run_tempering(key, spins, betas, tables, *, n_meas, measure_every, order, start=0) -> dict:
    """``n_meas * measure_every`` tempering sweeps of ``spins`` ``(K, C, n)`` int8 at
    ``betas`` ``(K,)`` (increasing temperatures), measuring every ``measure_every``.

    Returns ``{"spins" (K, C, n), "energy" (n_meas, K, C) total, "magnetization" per site,
    "swap_acceptance" (K-1,), "best_energy" (float64, exact), "best_spins" (n,)}``; ``start``
    (the sweeps done before) keeps the even/odd alternation of the swap pairs."""
    e, m, accepted, attempted, s, best_s = _pt_impl(
        key,
        jnp.swapaxes(jnp.asarray(spins, jnp.int8), 0, 1),
        jnp.asarray(betas, jnp.float32),
        tables,
        jnp.int32(start),
        order=order,
        n_meas=n_meas,
        measure_every=measure_every,
    )
    rate = np.asarray(accepted, np.float64) / np.maximum(np.asarray(attempted, np.float64), 1.0)
    best_s = np.asarray(best_s)
    best_e = float(np.asarray(gm.energy(jnp.asarray(best_s), tables)))
    return {
        "spins": jnp.swapaxes(s, 0, 1),
        "energy": e,
        "magnetization": m,
        "swap_acceptance": rate,
        "best_energy": best_e,
        "best_spins": best_s,
    }


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

    def summary(self) -> dict:
        """Temperatures, swap acceptances and the best energy."""
        return super().summary() | {
            "temperatures": self.temperatures.tolist(),
            "swap_acceptance": self.swap_acceptance.tolist(),
            "best_energy": self.best_energy,
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
