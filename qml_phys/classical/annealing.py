r"""Simulated annealing and parallel tempering for Ising problems on arbitrary graphs.

Every problem is written as

.. math::  E(s) = E_0 - \sum_{e=(i,j)} J_e\, s_i s_j - \sum_i h_i s_i, \qquad s_i \in \{-1, +1\},

with couplings of any sign (ferromagnets, spin glasses, QUBO). MaxCut of a graph with
weights :math:`w_e` is the case :math:`J_e = -w_e/2`, :math:`E_0 = -\sum_e w_e/2`, so that
:math:`E(s) = -\mathrm{cut}(s)` (the convention of :class:`~qml_phys.physics.models.MaxCut`).
:func:`ising_problem` reads :math:`(J_e, h_i, E_0)` off any model of
:mod:`qml_phys.physics.models` through its ``pauli_terms()`` (the one list every engine
is built from), or takes plain arrays.

Both engines use single-spin Metropolis sweeps (N. Metropolis et al., J. Chem. Phys. 21,
1087 (1953), doi:10.1063/1.1699114): every site once per sweep, in a fresh random
permutation per sweep (``order="random"``, the default) or in index order
(``order="sequential"``), from padded neighbour/coupling tables in a ``lax.fori_loop``;
the flip of ``s_i`` costs :math:`\Delta E = 2 s_i (\sum_j J_{ij} s_j + h_i)` and is
accepted with probability :math:`\min(1, e^{-\beta \Delta E})`.

Why random order by default: a fixed-order Metropolis sweep is not ergodic. Moves with
:math:`\Delta E \le 0` are accepted with certainty, so a configuration in which every
site, at its turn in the fixed order, sees :math:`\Delta E \le 0` is mapped to its
global flip with probability one, and back: a closed two-cycle at *every* temperature.
On the 4x4 periodic ferromagnet 64 of the 65536 configurations are such traps (see
``tests/classical/test_annealing.py``); a replica started there never equilibrates, and
an anneal started there never leaves. A random order per sweep has no such cycles.

* :func:`anneal` — simulated annealing (S. Kirkpatrick, C. D. Gelatt and M. P. Vecchi,
  Science 220, 671 (1983), doi:10.1126/science.220.4598.671): one sweep per temperature of
  a geometric or linear schedule from ``T_start`` down to ``T_end``, ``n_restarts``
  independent runs in one ``vmap``; returns the best energy and configuration seen (after
  any sweep) and the energy trace.
* :func:`parallel_tempering` — replica exchange (R. H. Swendsen and J.-S. Wang, PRL 57,
  2607 (1986), doi:10.1103/PhysRevLett.57.2607; K. Hukushima and K. Nemoto, J. Phys. Soc.
  Jpn. 65, 1604 (1996), arXiv:cond-mat/9512035): replicas at ``T_1 < ... < T_K``, one
  Metropolis sweep each, then swaps of neighbouring temperatures with probability
  :math:`\min(1, e^{(\beta_k - \beta_{k+1})(E_k - E_{k+1})})`, pairs ``(0,1), (2,3), ...``
  after even sweeps and ``(1,2), (3,4), ...`` after odd ones. Each pair is one Metropolis
  move in the joint space, so the product of Boltzmann distributions is stationary.

Arithmetic inside the loops is float32 whatever JAX's x64 setting; energies returned as
"best" are recomputed exactly in float64 numpy from the configurations.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    GraphFormatError,
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_positive_int,
    check_temperature,
)

__all__ = [
    "ORDERS",
    "SCHEDULES",
    "AnnealResult",
    "IsingProblem",
    "PTResult",
    "anneal",
    "ising_problem",
    "parallel_tempering",
    "temperature_schedule",
]

SCHEDULES = ("geometric", "linear")
ORDERS = ("random", "sequential")


@dataclasses.dataclass(frozen=True, eq=False)
class IsingProblem:
    r"""A classical Ising energy :math:`E_0 - \sum_e J_e s_i s_j - \sum_i h_i s_i`.

    Attributes:
        n_sites: number of spins.
        edges: ``(n_edges, 2)`` int64 site pairs (``i != j``; repeated pairs add up).
        couplings: ``(n_edges,)`` float64 :math:`J_e` (positive: ferromagnetic).
        fields: ``(n_sites,)`` float64 :math:`h_i`.
        offset: the constant :math:`E_0`.
    """

    n_sites: int
    edges: np.ndarray
    couplings: np.ndarray
    fields: np.ndarray
    offset: float = 0.0

    def __post_init__(self):
        n = check_positive_int("n_sites", self.n_sites)
        edges = np.asarray(self.edges)
        if edges.size == 0:
            raise GraphFormatError(
                "expected a graph with at least one edge (coupling); got 0 edges"
            )
        if edges.ndim != 2 or edges.shape[1] != 2 or not np.issubdtype(edges.dtype, np.integer):
            raise GraphFormatError(
                f"expected edges as integer pairs of shape (n_edges, 2); got shape "
                f"{edges.shape} dtype {edges.dtype}"
            )
        edges = edges.astype(np.int64)
        if edges.min() < 0 or edges.max() >= n:
            raise GraphFormatError(
                f"expected edge endpoints in 0..{n - 1}; got values from {edges.min()} to "
                f"{edges.max()}"
            )
        if np.any(edges[:, 0] == edges[:, 1]):
            bad = edges[edges[:, 0] == edges[:, 1]][0]
            raise GraphFormatError(f"expected no self-loops; got edge {tuple(bad.tolist())}")
        J = np.asarray(self.couplings, np.float64)
        if J.shape != (len(edges),):
            raise ShapeError(f"expected couplings of shape ({len(edges)},); got {J.shape}")
        h = np.asarray(self.fields, np.float64)
        if h.ndim == 0:
            h = np.full(n, float(h))
        if h.shape != (n,):
            raise ShapeError(f"expected fields of shape ({n},) or a scalar; got {h.shape}")
        offset = float(self.offset)
        if not (np.all(np.isfinite(J)) and np.all(np.isfinite(h)) and np.isfinite(offset)):
            raise InvalidParameterError("expected finite couplings, fields and offset; got inf/nan")
        for name, value in (
            ("n_sites", n),
            ("edges", edges),
            ("couplings", J),
            ("fields", h),
            ("offset", offset),
        ):
            object.__setattr__(self, name, value)

    @property
    def n_edges(self) -> int:
        return len(self.edges)

    def energy(self, spins) -> np.ndarray:
        """Exact float64 energies of ``(..., n_sites)`` spins (numpy)."""
        s = np.asarray(spins, np.float64)
        if s.shape[-1:] != (self.n_sites,):
            raise ShapeError(f"expected spins of shape (..., {self.n_sites}); got {s.shape}")
        a, b = self.edges[:, 0], self.edges[:, 1]
        return self.offset - (s[..., a] * s[..., b]) @ self.couplings - s @ self.fields

    def max_local_field(self) -> float:
        r""":math:`\max_i (\sum_{j} |J_{ij}| + |h_i|)`, the largest :math:`|\Delta E|/2`."""
        bound = np.abs(self.fields).copy()
        np.add.at(bound, self.edges[:, 0], np.abs(self.couplings))
        np.add.at(bound, self.edges[:, 1], np.abs(self.couplings))
        return float(bound.max())


def ising_problem(model_or_problem) -> IsingProblem:
    """The :class:`IsingProblem` of a model, or the problem itself.

    Accepts an :class:`IsingProblem`; any model of :mod:`qml_phys.physics.models` whose
    Hamiltonian is diagonal (``IsingModel``, ``GraphIsing`` with ``gamma = 0``, ``MaxCut``,
    ``TransverseFieldIsing`` with ``gamma = 0``), read from its ``pauli_terms()``; or a
    tuple ``(edges, couplings)`` / ``(edges, couplings, fields)``.
    """
    if isinstance(model_or_problem, IsingProblem):
        return model_or_problem
    if isinstance(model_or_problem, tuple):
        if len(model_or_problem) not in (2, 3):
            raise InvalidParameterError(
                "expected (edges, couplings) or (edges, couplings, fields); got a tuple of "
                f"length {len(model_or_problem)}"
            )
        edges = np.asarray(model_or_problem[0])
        if edges.size == 0:
            raise GraphFormatError(
                "expected a graph with at least one edge (coupling); got 0 edges"
            )
        fields = model_or_problem[2] if len(model_or_problem) == 3 else None
        n = int(edges.max()) + 1 if fields is None or np.ndim(fields) == 0 else len(fields)
        return IsingProblem(n, edges, model_or_problem[1], 0.0 if fields is None else fields)
    if not hasattr(model_or_problem, "pauli_terms"):
        raise InvalidParameterError(
            "expected an IsingProblem, a model with pauli_terms() (e.g. MaxCut(graph), "
            "GraphIsing(graph)) or (edges, couplings[, fields]); got "
            f"{type(model_or_problem).__name__}"
        )
    n = int(model_or_problem.n_sites)
    edges, couplings, fields, offset = [], [], np.zeros(n), 0.0
    for paulis, sites, coeff in model_or_problem.pauli_terms():
        if set(paulis) - {"Z"} or len(sites) > 2:
            raise InvalidParameterError(
                "annealing minimises a classical energy: expected only Z and ZZ terms; got "
                f"{paulis!r} on sites {tuple(sites)} (set the transverse field to 0)"
            )
        if len(sites) == 2:
            edges.append(sites)
            couplings.append(-coeff)
        elif len(sites) == 1:
            fields[sites[0]] -= coeff
        else:
            offset += coeff
    if not edges:
        raise GraphFormatError("expected a graph with at least one edge (coupling); got 0 edges")
    return IsingProblem(n, np.asarray(edges, np.int64), np.asarray(couplings), fields, offset)


class _Tables(NamedTuple):
    """Padded tables (jnp): ``neighbors (n, d)`` int32 (padding: the site itself),
    ``couplings (n, d)`` float32 (padding: 0), ``fields (n,)`` float32, and the edge list
    ``edges (n_edges, 2)`` int32, ``edge_couplings (n_edges,)`` float32, ``offset ()``."""

    neighbors: jax.Array
    couplings: jax.Array
    fields: jax.Array
    edges: jax.Array
    edge_couplings: jax.Array
    offset: jax.Array


def _tables(problem: IsingProblem) -> _Tables:
    n = problem.n_sites
    deg = np.bincount(problem.edges.ravel(), minlength=n)
    d = int(deg.max())
    nbr = np.tile(np.arange(n)[:, None], (1, d))
    cpl = np.zeros((n, d))
    count = np.zeros(n, np.int64)
    for (i, j), J in zip(problem.edges, problem.couplings, strict=True):
        nbr[i, count[i]], cpl[i, count[i]] = j, J
        count[i] += 1
        nbr[j, count[j]], cpl[j, count[j]] = i, J
        count[j] += 1
    f32 = jnp.float32
    return _Tables(
        jnp.asarray(nbr, jnp.int32),
        jnp.asarray(cpl, f32),
        jnp.asarray(problem.fields, f32),
        jnp.asarray(problem.edges, jnp.int32),
        jnp.asarray(problem.couplings, f32),
        jnp.asarray(problem.offset, f32),
    )


# ---------------------------------------------------------------------------------------
# Kernels on one configuration s (n,) int8.


def _energy(s, t: _Tables):
    """Energy of one configuration, float32."""
    sf = s.astype(jnp.float32)
    bonds = sf[t.edges[:, 0]] * sf[t.edges[:, 1]]
    return t.offset - jnp.sum(bonds * t.edge_couplings) - jnp.sum(sf * t.fields)


def _sweep(key, s, beta, t: _Tables, order: str):
    """One Metropolis sweep (every site once) at inverse temperature ``beta``."""
    n = s.shape[0]
    k_u, k_perm = jax.random.split(key)
    u = jax.random.uniform(k_u, (n,), jnp.float32)
    sites = (
        jax.random.permutation(k_perm, n).astype(jnp.int32)
        if order == "random"
        else jnp.arange(n, dtype=jnp.int32)
    )

    def body(k, s):
        i = sites[k]
        local = jnp.sum(t.couplings[i] * s[t.neighbors[i]].astype(jnp.float32)) + t.fields[i]
        si = s[i]
        de = 2.0 * si.astype(jnp.float32) * local
        accept = u[k] < jnp.exp(-beta * de)
        return s.at[i].set(jnp.where(accept, -si, si))

    return jax.lax.fori_loop(0, n, body, s)


@partial(jax.jit, static_argnames=("order",))
def _anneal_impl(key, spins, betas, t: _Tables, *, order):
    """spins ``(R, n)``, betas ``(n_sweeps,)``. Returns per-restart best energy, best
    spins and the ``(n_sweeps, R)`` energy trace."""
    n_restarts = spins.shape[0]
    sweep = jax.vmap(partial(_sweep, t=t, order=order), in_axes=(0, 0, None))
    energy = jax.vmap(partial(_energy, t=t))

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


# ---------------------------------------------------------------------------------------
# Validation helpers.


def _check_name(name, value, allowed):
    if value not in allowed:
        raise UnknownNameError(f"expected {name} in {allowed}; got {value!r}")
    return value


def _random_spins(key, shape):
    """Uniformly random spins (top bit of 32 random bits: the same with x64 on or off)."""
    up = (jax.random.bits(key, shape, jnp.uint32) >> 31) == 1
    return jnp.where(up, 1, -1).astype(jnp.int8)


def temperature_schedule(T_start: float, T_end: float, n_sweeps: int, kind: str = "geometric"):
    """Temperatures ``(n_sweeps,)`` float64 from ``T_start`` down to ``T_end``.

    ``"geometric"``: ``T_k = T_start (T_end / T_start)^(k / (n_sweeps - 1))``;
    ``"linear"``: equal steps. Requires ``T_start >= T_end > 0``.
    """
    T_start = check_temperature(T_start, "T_start")
    T_end = check_temperature(T_end, "T_end")
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    _check_name("schedule", kind, SCHEDULES)
    if T_end > T_start:
        raise InvalidParameterError(
            f"annealing cools: expected T_end <= T_start; got T_start={T_start}, T_end={T_end}"
        )
    x = np.arange(n_sweeps) / max(n_sweeps - 1, 1)
    if kind == "geometric":
        return T_start * (T_end / T_start) ** x
    return T_start + (T_end - T_start) * x


class AnnealResult(NamedTuple):
    """Result of :func:`anneal`.

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


def anneal(
    key,
    model_or_problem,
    *,
    n_sweeps: int = 1000,
    T_start: float | None = None,
    T_end: float | None = None,
    n_restarts: int = 16,
    schedule: str = "geometric",
    order: str = "random",
) -> AnnealResult:
    r"""Simulated annealing for the ground state of an Ising problem.

    Args:
        key: JAX PRNG key.
        model_or_problem: see :func:`ising_problem` (a model, an :class:`IsingProblem` or
            ``(edges, couplings[, fields])``).
        n_sweeps: sweeps, one per temperature of the schedule.
        T_start: initial temperature (energy units); default :meth:`~IsingProblem.max_local_field`,
            where every flip is accepted with probability at least :math:`e^{-2}`.
        T_end: final temperature; default ``T_start / 1000``.
        n_restarts: independent runs from random configurations (one ``vmap``).
        schedule: ``"geometric"`` or ``"linear"``.
        order: ``"random"`` (a new permutation per sweep) or ``"sequential"`` (index
            order; not ergodic, see the module docstring).

    Returns:
        :class:`AnnealResult`.
    """
    problem = ising_problem(model_or_problem)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    n_restarts = check_positive_int("n_restarts", n_restarts)
    _check_name("order", order, ORDERS)
    if T_start is None:
        T_start = max(problem.max_local_field(), 1e-12)
    if T_end is None:
        T_end = min(check_temperature(T_start, "T_start") / 1000.0, T_start)
    temps = temperature_schedule(T_start, T_end, n_sweeps, schedule)
    k_init, k_run = jax.random.split(key)
    spins = _random_spins(k_init, (n_restarts, problem.n_sites))
    betas = jnp.asarray(1.0 / temps, jnp.float32)
    _, best_s, trace = _anneal_impl(k_run, spins, betas, _tables(problem), order=order)
    best_s = np.asarray(best_s)
    energies = problem.energy(best_s)
    i = int(np.argmin(energies))
    return AnnealResult(float(energies[i]), best_s[i], energies, best_s, trace, temps)


# ---------------------------------------------------------------------------------------
# Parallel tempering.


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


@partial(jax.jit, static_argnames=("order", "n_therm", "n_meas", "sweeps_per_meas"))
def _pt_impl(key, spins, betas, t: _Tables, *, order, n_therm, n_meas, sweeps_per_meas):
    """spins ``(C, K, n)``; betas ``(K,)`` float32. Sweep, then swap, every sweep."""
    n_chains, n_temps = spins.shape[:2]
    sweep = jax.vmap(
        jax.vmap(partial(_sweep, t=t, order=order), in_axes=(0, 0, 0)), in_axes=(0, 0, None)
    )
    energy = jax.vmap(jax.vmap(partial(_energy, t=t)))
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
        parity = tt % 2
        spins, e, acc = swap(jax.random.split(k_swap, n_chains), spins, e, betas, parity)
        pairs = jnp.arange(n_temps - 1, dtype=jnp.int32)
        attempted = attempted + (pairs % 2 == parity).astype(jnp.float32) * n_chains
        return spins, accepted + jnp.sum(acc, axis=0), attempted, best_e, best_s

    zeros = jnp.zeros((n_temps - 1,), jnp.float32)
    e0 = energy(spins).reshape(-1)
    carry = (spins, zeros, zeros, jnp.min(e0), spins.reshape(-1, spins.shape[-1])[jnp.argmin(e0)])
    carry = jax.lax.fori_loop(0, n_therm, one_sweep, carry)

    def measure(carry, i):
        start = n_therm + i * sweeps_per_meas
        carry = jax.lax.fori_loop(start, start + sweeps_per_meas, one_sweep, carry)
        spins = carry[0]
        e = energy(spins)
        m = jnp.sum(spins, axis=-1, dtype=jnp.int32).astype(jnp.float32) / spins.shape[-1]
        return carry, (e.T, m.T)

    carry, (e, m) = jax.lax.scan(measure, carry, jnp.arange(n_meas, dtype=jnp.int32))
    spins, accepted, attempted, best_e, best_s = carry
    return e, m, accepted, attempted, spins, best_s


class PTResult(NamedTuple):
    """Result of :func:`parallel_tempering`.

    Attributes:
        temperatures: ``(K,)`` float64, increasing.
        energy: ``(n_meas, K, n_chains)`` float32 total energy (model units) of the
            configuration at each temperature.
        magnetization: ``(n_meas, K, n_chains)`` float32 signed magnetization per site.
        swap_acceptance: ``(K-1,)`` float64 fraction of accepted swaps between temperatures
            ``k`` and ``k+1`` (thermalisation included).
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


def parallel_tempering(
    key,
    model_or_problem,
    temperatures,
    *,
    n_chains: int = 1,
    n_therm: int = 100,
    n_meas: int = 1000,
    sweeps_per_meas: int = 1,
    order: str = "random",
) -> PTResult:
    r"""Parallel tempering (replica exchange) over a temperature grid.

    Args:
        key: JAX PRNG key.
        model_or_problem: see :func:`ising_problem`.
        temperatures: ``(K,)`` strictly increasing temperatures > 0, ``K >= 2``.
        n_chains: independent replica sets (one ``vmap``).
        n_therm: sweeps (each followed by a swap attempt) before measuring.
        n_meas: measurements.
        sweeps_per_meas: sweeps (and swap attempts) between measurements.
        order: ``"random"`` or ``"sequential"`` site order within a sweep (see the
            module docstring: fixed order is not ergodic).

    Returns:
        :class:`PTResult`.
    """
    problem = ising_problem(model_or_problem)
    t = np.atleast_1d(np.asarray(temperatures, dtype=object))
    if t.ndim != 1 or t.size < 2:
        raise ShapeError(f"expected at least 2 temperatures as a 1-d sequence; got shape {t.shape}")
    temps = np.array([check_temperature(x) for x in t])
    if np.any(np.diff(temps) <= 0):
        raise InvalidParameterError(
            f"expected strictly increasing temperatures; got {temps.tolist()}"
        )
    n_chains = check_positive_int("n_chains", n_chains)
    n_therm = check_positive_int("n_therm", n_therm, minimum=0)
    n_meas = check_positive_int("n_meas", n_meas)
    sweeps_per_meas = check_positive_int("sweeps_per_meas", sweeps_per_meas)
    _check_name("order", order, ORDERS)
    k_init, k_run = jax.random.split(key)
    spins = _random_spins(k_init, (n_chains, len(temps), problem.n_sites))
    betas = jnp.asarray(1.0 / temps, jnp.float32)
    e, m, accepted, attempted, spins, best_s = _pt_impl(
        k_run,
        spins,
        betas,
        _tables(problem),
        order=order,
        n_therm=n_therm,
        n_meas=n_meas,
        sweeps_per_meas=sweeps_per_meas,
    )
    attempted = np.asarray(attempted, np.float64)
    rate = np.asarray(accepted, np.float64) / np.maximum(attempted, 1.0)
    best_s = np.asarray(best_s)
    return PTResult(
        temps, e, m, rate, jnp.swapaxes(spins, 0, 1), float(problem.energy(best_s)), best_s
    )
