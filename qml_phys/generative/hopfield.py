r"""Hopfield network: Hebbian storage, asynchronous retrieval and storage capacity.

``P`` patterns :math:`\xi^\mu \in \{-1,+1\}^N` are stored with the Hebb rule

.. math:: W_{ij} = \frac1N \sum_\mu \xi^\mu_i \xi^\mu_j \ (i \ne j), \qquad W_{ii} = 0,

(J. J. Hopfield, PNAS 79, 2554 (1982), doi:10.1073/pnas.79.8.2554). Retrieval updates one
spin at a time, :math:`s_i \leftarrow \mathrm{sign}(h_i)`, :math:`h_i = \sum_j W_{ij} s_j`
(a spin with :math:`h_i = 0` is kept), which never raises the energy
:math:`E = -\tfrac12 s^\top W s`: flipping :math:`s_i` changes it by
:math:`\Delta E = -(s_i' - s_i) h_i \le 0`. Retrieval from a stored pattern keeps an
overlap :math:`m = \xi\cdot s/N` close to 1 for a load :math:`\alpha = P/N` below
:math:`\alpha_c \approx 0.138` and breaks down above it (Amit, Gutfreund, Sompolinsky,
PRL 55, 1530 (1985), doi:10.1103/PhysRevLett.55.1530); on finite ``N`` the drop is smeared.
"""

from __future__ import annotations

import dataclasses
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int
from qml_phys.generative.evaluate import check_spins
from qml_phys.runtime.results import Result, history_column

__all__ = [
    "ALPHA_C",
    "CapacityCurve",
    "Retrieval",
    "capacity_curve",
    "energy",
    "hebbian",
    "overlap",
    "random_patterns",
    "retrieve",
]

ALPHA_C = 0.138
"""Amit-Gutfreund-Sompolinsky storage capacity of the Hebbian network (N -> infinity)."""


def random_patterns(key: jax.Array, P: int, N: int) -> jax.Array:
    """``(P, N)`` float32 unbiased random patterns in {-1,+1}."""
    P = check_positive_int("P", P)
    N = check_positive_int("N", N, minimum=2)
    return jnp.where(jax.random.bernoulli(key, 0.5, (P, N)), 1.0, -1.0).astype(jnp.float32)


def hebbian(patterns) -> jax.Array:
    """Hebbian couplings ``(N, N)`` float32 (zero diagonal) of ``(P, N)`` patterns."""
    xi = jnp.asarray(check_spins(patterns, name="patterns"), jnp.float32)
    if xi.ndim != 2:
        raise ShapeError(f"expected patterns of shape (P, N); got shape {xi.shape}")
    N = xi.shape[1]
    W = xi.T @ xi / jnp.float32(N)
    return W * (1.0 - jnp.eye(N, dtype=jnp.float32))


def energy(W: jax.Array, s: jax.Array) -> jax.Array:
    """``E = -1/2 s^T W s`` of spins ``(..., N)``; shape ``s.shape[:-1]``."""
    s = jnp.asarray(s, jnp.float32)
    return -0.5 * jnp.sum(s * (s @ W), axis=-1)


def overlap(patterns: jax.Array, s: jax.Array) -> jax.Array:
    """Overlap ``m = xi . s / N`` of each state ``(n, N)`` with its pattern ``(n, N)``."""
    patterns = jnp.asarray(patterns, jnp.float32)
    s = jnp.asarray(s, jnp.float32)
    if patterns.shape != s.shape:
        raise ShapeError(
            f"expected patterns and states of equal shape; got {patterns.shape}, {s.shape}"
        )
    return jnp.mean(patterns * s, axis=-1)


class Retrieval(NamedTuple):
    """Result of :func:`retrieve`."""

    states: jax.Array
    """``(n, N)`` final states."""
    energies: jax.Array
    """``(n_sweeps * N + 1, n)`` energy after each single-spin update (row 0: the start)."""
    converged: jax.Array
    """``(n,)`` bool: no spin changed in the last sweep (a fixed point)."""


def retrieve(W: jax.Array, s0, *, key: jax.Array, n_sweeps: int = 10) -> Retrieval:
    """Asynchronous retrieval: ``n_sweeps`` sweeps of single-spin updates in random order.

    Args:
        W: ``(N, N)`` couplings with zero diagonal (e.g. :func:`hebbian`).
        s0: ``(n, N)`` initial states in {-1,+1}.
        key: PRNG key for the update order (a fresh permutation of the sites per sweep,
            shared by the ``n`` states).
        n_sweeps: number of sweeps (each updates every site once).
    """
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    W = jnp.asarray(W, jnp.float32)
    s0 = jnp.asarray(check_spins(s0, name="s0"), jnp.float32)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or s0.ndim != 2 or s0.shape[1] != W.shape[0]:
        raise ShapeError(
            f"expected W of shape (N, N) and s0 of shape (n, N); got {W.shape} and {s0.shape}"
        )
    if not bool(jnp.all(jnp.diag(W) == 0)):
        raise InvalidParameterError("expected couplings with zero diagonal (W_ii = 0)")
    N = W.shape[0]
    order = jnp.stack([jax.random.permutation(k, N) for k in jax.random.split(key, n_sweeps)])
    return _retrieve(W, s0, order.reshape(-1))


@jax.jit
def _retrieve(W, s0, order):
    e0 = energy(W, s0)

    def step(carry, i):
        s, e, changed = carry
        h = s @ W[i]
        old = s[:, i]
        new = jnp.where(h > 0, 1.0, jnp.where(h < 0, -1.0, old)).astype(jnp.float32)
        e = e - (new - old) * h
        return (s.at[:, i].set(new), e, changed | (new != old)), e

    N = W.shape[0]
    n_total = order.shape[0]
    last = n_total - N
    # run all but the last sweep, then the last one with a fresh "changed" flag
    zeros = jnp.zeros(s0.shape[0], bool)
    (s, e, _), es1 = jax.lax.scan(step, (s0, e0, zeros), order[:last])
    (s, e, changed), es2 = jax.lax.scan(step, (s, e, zeros), order[last:])
    energies = jnp.concatenate([e0[None], es1, es2], axis=0)
    return Retrieval(s, energies, ~changed)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CapacityCurve(Result):
    """What :func:`capacity_curve` returns. ``config``: its settings (``N``, ``n_trials``,
    ``n_sweeps``, ``threshold``); ``history``: one entry per load (the scan's steps), also
    read as attributes: ``alpha``, ``P``, ``overlap``, ``overlap_error``, ``retrieved``."""

    alpha = history_column("alpha")
    """``(n_alpha,)`` loads ``P / N`` actually used."""

    P = history_column("P")
    """``(n_alpha,)`` numbers of stored patterns."""

    overlap = history_column("overlap")
    """``(n_alpha,)`` mean final overlap with the starting pattern."""

    overlap_error = history_column("overlap_error")
    """``(n_alpha,)`` its standard error over patterns and trials."""

    retrieved = history_column("retrieved")
    """``(n_alpha,)`` fraction of patterns retrieved (final overlap >= threshold)."""

    def summary(self) -> dict:
        """The settings and the curve as lists."""
        return super().summary() | {k: np.asarray(v).tolist() for k, v in self.history.items()}


def capacity_curve(
    N: int,
    alphas,
    *,
    key: jax.Array,
    n_trials: int = 4,
    n_sweeps: int = 10,
    threshold: float = 0.95,
) -> CapacityCurve:
    """Retrieval quality against the load ``alpha = P / N`` (start: a stored pattern).

    For each ``alpha`` (``P = max(1, round(alpha N))``), ``n_trials`` networks of random
    patterns; retrieval starts at every stored pattern. ``key``: PRNG key of the patterns
    and the update orders (``fold_in`` by load and trial).
    """
    t0 = time.perf_counter()
    N = check_positive_int("N", N, minimum=2)
    n_trials = check_positive_int("n_trials", n_trials)
    alphas = np.asarray(alphas, np.float64).ravel()
    if alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas <= 0):
        raise InvalidParameterError(f"expected loads alpha > 0; got {alphas.tolist()}")
    rows = {"alpha": [], "P": [], "overlap": [], "overlap_error": [], "retrieved": []}
    for i, alpha in enumerate(alphas):
        P = max(1, int(round(alpha * N)))
        ms = []
        for t in range(n_trials):
            k_pat, k_ret = jax.random.split(jax.random.fold_in(jax.random.fold_in(key, i), t))
            xi = random_patterns(k_pat, P, N)
            res = retrieve(hebbian(xi), xi, key=k_ret, n_sweeps=n_sweeps)
            ms.append(np.asarray(overlap(xi, res.states)))
        m = np.concatenate(ms)
        rows["alpha"].append(P / N)
        rows["P"].append(P)
        rows["overlap"].append(float(m.mean()))
        rows["overlap_error"].append(float(m.std(ddof=1) / np.sqrt(m.size)) if m.size > 1 else 0.0)
        rows["retrieved"].append(float(np.mean(m >= threshold)))
    return CapacityCurve(
        config={"N": N, "n_trials": n_trials, "n_sweeps": n_sweeps, "threshold": threshold},
        history={k: np.asarray(v) for k, v in rows.items()},
        wall_time_s=time.perf_counter() - t0,
    )
