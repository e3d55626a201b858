r"""Single-spin Metropolis for an Ising energy on any graph or lattice.

Every problem is written as

.. math::  E(s) = E_0 - \sum_{e=(i,j)} J_e\, s_i s_j - \sum_i h_i s_i, \qquad s_i \in \{-1, +1\},

with couplings of any sign (ferromagnets on any lattice, spin glasses, MaxCut, QUBO).
:func:`ising_problem` reads :math:`(J_e, h_i, E_0)` off any diagonal model of
:mod:`qml_phys.physics.models` through its ``pauli_terms()`` (the one list every engine
is built from), or takes plain arrays. MaxCut of a graph with weights :math:`w_e` is the
case :math:`J_e = -w_e/2`, :math:`E_0 = -\sum_e w_e/2`, so that :math:`E(s) = -\mathrm{cut}(s)`.

The flip of :math:`s_i` costs :math:`\Delta E = 2 s_i (\sum_j J_{ij} s_j + h_i)` (N.
Metropolis et al., J. Chem. Phys. 21, 1087 (1953), doi:10.1063/1.1699114). A sweep visits
every site once, in one of three orders (``order``):

* ``"checkerboard"`` -- the sites of one colour of a proper colouring (no bond inside a
  colour: the checkerboard of the square lattice, the three sublattices of the triangular
  one, a greedy colouring of a graph) are updated at once, one colour after the other;
  vectorised, the general form of the square-lattice checkerboard of
  :mod:`~qml_phys.classical.metropolis`. A move with :math:`\Delta E = 0` is accepted
  with probability :math:`1 - 2^{-8}` rather than 1, for the reason given there: with 1,
  a configuration whose every site has :math:`\Delta E = 0` maps to its flip and back.
* ``"random"`` -- one site at a time, in a fresh random permutation per sweep;
* ``"sequential"`` -- one site at a time in index order. Not ergodic: moves with
  :math:`\Delta E \le 0` are accepted with certainty, so a configuration in which every
  site, at its turn, sees :math:`\Delta E \le 0` maps to its global flip and back (on the
  4x4 periodic ferromagnet 64 of the 65536 configurations are such traps; see
  ``tests/classical/test_annealing.py``). Kept to show exactly that.

Arithmetic inside the loops is float32 whatever JAX's x64 setting; exact float64 energies
come from :meth:`IsingProblem.energy`. Used by the samplers of
:mod:`~qml_phys.classical.samplers` for every model off the square torus, by simulated
annealing and by parallel tempering.
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
    check_multiple,
    check_name,
    check_positive_int,
)
from qml_phys.physics.lattice import greedy_colouring
from qml_phys.runtime import rng

__all__ = [
    "ORDERS",
    "IsingProblem",
    "Tables",
    "energy",
    "ising_problem",
    "random_spins",
    "sweep",
    "sweeps",
    "tables",
    "tempering_sweeps",
]

#: Site orders of a sweep (see the module docstring).
ORDERS = ("checkerboard", "random", "sequential")
_ZERO_DE = 1.0 - 2.0**-8  # acceptance of a dE = 0 move in checkerboard order


@dataclasses.dataclass(frozen=True, eq=False)
class IsingProblem:
    r"""A classical Ising energy :math:`E_0 - \sum_e J_e s_i s_j - \sum_i h_i s_i`.

    Attributes:
        n_sites: number of spins.
        edges: ``(n_edges, 2)`` int64 site pairs (``i != j``; repeated pairs add up).
        couplings: ``(n_edges,)`` float64 :math:`J_e` (positive: ferromagnetic).
        fields: ``(n_sites,)`` float64 :math:`h_i`.
        offset: the constant :math:`E_0`.
        colouring: a proper colouring of the sites (from the lattice), or None (a greedy
            one is computed when needed).
    """

    n_sites: int
    edges: np.ndarray
    couplings: np.ndarray
    fields: np.ndarray
    offset: float = 0.0
    colouring: np.ndarray | None = None

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
        if self.colouring is not None:
            object.__setattr__(self, "colouring", np.asarray(self.colouring, np.int64))
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
                "Metropolis samples a classical energy: expected only Z and ZZ terms; got "
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
    lattice = getattr(model_or_problem, "lattice", None)
    colouring = None if lattice is None else lattice.colouring
    return IsingProblem(
        n, np.asarray(edges, np.int64), np.asarray(couplings), fields, offset, colouring
    )


class Tables(NamedTuple):
    """Padded tables (jnp): ``neighbors (n, d)`` int32 (padding: the site itself),
    ``couplings (n, d)`` float32 (padding: 0), ``fields (n,)`` float32, the edge list
    ``edges (n_edges, 2)`` int32, ``edge_couplings (n_edges,)`` float32, ``offset ()``, and
    the colour classes ``colour_sites (n_colours, m)`` int32 of a proper colouring (sites
    of one colour share no bond; padding: ``n``, an index past the last site)."""

    neighbors: jax.Array
    couplings: jax.Array
    fields: jax.Array
    edges: jax.Array
    edge_couplings: jax.Array
    offset: jax.Array
    colour_sites: jax.Array


def tables(problem: IsingProblem, colouring: np.ndarray | None = None) -> Tables:
    """The padded tables of ``problem`` (see :class:`Tables`); ``colouring``: a proper
    colouring ``(n,)`` of its sites (default: a greedy one, or the one the problem carries)."""
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
    if colouring is None:
        colouring = problem.colouring
    if colouring is None:
        colouring = greedy_colouring(n, problem.edges)
    colouring = np.asarray(colouring, np.int64)
    a, b = problem.edges[:, 0], problem.edges[:, 1]
    if colouring.shape != (n,) or np.any(colouring[a] == colouring[b]):
        raise InvalidParameterError(
            f"colouring: expected a proper colouring of the {n} sites (no bond inside a "
            "colour); got one that is not"
        )
    n_colours = int(colouring.max()) + 1
    width = int(np.bincount(colouring, minlength=n_colours).max())
    classes = np.full((n_colours, width), n, np.int64)
    for c in range(n_colours):
        members = np.nonzero(colouring == c)[0]
        classes[c, : len(members)] = members
    f32 = jnp.float32
    return Tables(
        jnp.asarray(nbr, jnp.int32),
        jnp.asarray(cpl, f32),
        jnp.asarray(problem.fields, f32),
        jnp.asarray(problem.edges, jnp.int32),
        jnp.asarray(problem.couplings, f32),
        jnp.asarray(problem.offset, f32),
        jnp.asarray(classes, jnp.int32),
    )


def energy(s, t: Tables):
    """Energy of one configuration, float32."""
    sf = s.astype(jnp.float32)
    bonds = sf[t.edges[:, 0]] * sf[t.edges[:, 1]]
    return t.offset - jnp.sum(bonds * t.edge_couplings) - jnp.sum(sf * t.fields)


def _sequential_sweep(key, s, beta, t: Tables, order: str):
    """One sweep in a random or in index order (every site once)."""
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


def _checkerboard_sweep(key, s, beta, t: Tables):
    """One sweep colour by colour; all sites of a colour at once."""
    n = s.shape[0]

    def colour(c, carry):
        s, key = carry
        key, k_u = jax.random.split(key)
        sites = t.colour_sites[c]
        idx = jnp.minimum(sites, n - 1)  # padding reads a real site; its update is dropped
        sf = s.astype(jnp.float32)
        local = jnp.sum(t.couplings[idx] * sf[t.neighbors[idx]], axis=-1) + t.fields[idx]
        si = s[idx]
        de = 2.0 * si.astype(jnp.float32) * local
        p = jnp.where(de == 0, jnp.float32(_ZERO_DE), jnp.exp(-beta * de))
        accept = rng.uniform(k_u, sites.shape, jnp.float32) < p
        s = s.at[sites].set(jnp.where(accept, -si, si), mode="drop")
        return s, key

    s, _ = jax.lax.fori_loop(0, t.colour_sites.shape[0], colour, (s, key))
    return s


def sweep(key, s, beta, t: Tables, order: str = "checkerboard"):
    """One Metropolis sweep of one configuration ``s`` ``(n,)`` int8 at inverse
    temperature ``beta`` (a float32 scalar), in ``order`` (see the module docstring).
    Pure and jit-able; ``vmap`` it over chains and temperatures."""
    if order == "checkerboard":
        return _checkerboard_sweep(key, s, beta, t)
    return _sequential_sweep(key, s, beta, t, order)


@partial(jax.jit, static_argnames=("order", "measure_every", "n_meas"))
def _run(key, spins, betas, t: Tables, n_therm, *, order, measure_every, n_meas):
    """``spins (K, C, n)``, ``betas (K,)``: ``n_therm`` sweeps, then ``n_meas`` measurements
    of the energy and magnetization per site, one every ``measure_every`` sweeps."""
    one = jax.vmap(jax.vmap(partial(sweep, t=t, order=order), in_axes=(0, 0, None)))
    n = spins.shape[-1]

    def step(i, s):
        keys = jax.random.split(jax.random.fold_in(key, i), s.shape[:2])
        return one(keys, s, betas)

    spins = jax.lax.fori_loop(0, n_therm, step, spins)
    e_fn = jax.vmap(jax.vmap(partial(energy, t=t)))

    def measure(s, i):
        start = n_therm + i * measure_every
        s = jax.lax.fori_loop(start, start + measure_every, step, s)
        m = jnp.sum(s, axis=-1, dtype=jnp.int32).astype(jnp.float32) / n
        return s, (e_fn(s) / n, m)

    spins, (e, m) = jax.lax.scan(measure, spins, jnp.arange(n_meas, dtype=jnp.int32))
    return spins, e, m


def sweeps(
    key, spins, betas, t: Tables, *, n_sweeps: int, measure_every: int = 1, order="checkerboard"
):
    """Advance ``spins`` ``(n_temps, n_chains, n)`` int8 by ``n_sweeps`` sweeps at the
    inverse temperatures ``betas`` ``(n_temps,)``, measuring every ``measure_every``.

    ``measure_every = 0`` measures nothing. Returns ``(spins, energy, magnetization)``, the
    last two ``(n_meas, n_temps, n_chains)`` float32 per site (``n_meas = n_sweeps //
    measure_every``; without measurements, empty).
    """
    check_name("order", order, ORDERS)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps, minimum=0)
    betas = jnp.asarray(betas, jnp.float32)
    if measure_every == 0:
        return (*_run(key, spins, betas, t, n_sweeps, order=order, measure_every=1, n_meas=0),)
    measure_every = check_positive_int("measure_every", measure_every)
    check_multiple("n_sweeps", n_sweeps, "measure_every", measure_every)
    return _run(
        key,
        spins,
        betas,
        t,
        0,
        order=order,
        measure_every=measure_every,
        n_meas=n_sweeps // measure_every,
    )


def random_spins(key, shape):
    """Uniformly random spins (top bit of 32 random bits: the same with x64 on or off)."""
    up = (rng.bits(key, shape, jnp.uint32) >> 31) == 1
    return jnp.where(up, 1, -1).astype(jnp.int8)


# --------------------------------------------------------------------- parallel tempering
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
def _pt_impl(key, spins, betas, t: Tables, start, *, order, n_meas, measure_every):
    """spins ``(C, K, n)``; betas ``(K,)`` float32. Sweep, then swap, every sweep."""
    n_chains, n_temps = spins.shape[:2]
    sweep_all = jax.vmap(
        jax.vmap(partial(sweep, t=t, order=order), in_axes=(0, 0, 0)), in_axes=(0, 0, None)
    )
    energy_all = jax.vmap(jax.vmap(partial(energy, t=t)))
    swap = jax.vmap(_swap, in_axes=(0, 0, 0, None, None))

    def one_sweep(tt, carry):
        spins, accepted, attempted, best_e, best_s = carry
        k_sweep, k_swap = jax.random.split(jax.random.fold_in(key, tt))
        keys = jax.random.split(k_sweep, (n_chains, n_temps))
        spins = sweep_all(keys, spins, betas)
        e = energy_all(spins)
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
    e0 = energy_all(spins).reshape(-1)
    carry = (spins, zeros, zeros, jnp.min(e0), spins.reshape(-1, spins.shape[-1])[jnp.argmin(e0)])

    def measure(carry, i):
        first = i * measure_every
        carry = jax.lax.fori_loop(first, first + measure_every, one_sweep, carry)
        spins = carry[0]
        e = energy_all(spins)
        m = jnp.sum(spins, axis=-1, dtype=jnp.int32).astype(jnp.float32) / spins.shape[-1]
        return carry, (e.T, m.T)

    carry, (e, m) = jax.lax.scan(measure, carry, jnp.arange(n_meas, dtype=jnp.int32))
    spins, accepted, attempted, best_e, best_s = carry
    return e, m, accepted, attempted, spins, best_s


def tempering_sweeps(key, spins, betas, tables, *, n_meas, measure_every, order, start=0) -> dict:
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
    best_e = float(np.asarray(energy(jnp.asarray(best_s), tables)))
    return {
        "spins": jnp.swapaxes(s, 0, 1),
        "energy": e,
        "magnetization": m,
        "swap_acceptance": rate,
        "best_energy": best_e,
        "best_spins": best_s,
    }
