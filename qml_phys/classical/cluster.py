r"""Cluster Monte Carlo for the ferromagnetic Ising model: Wolff and Swendsen–Wang.

The model is

.. math::  E(s) = -J \sum_{\langle ij \rangle} s_i s_j, \qquad J > 0,\ h = 0,

on a :class:`~qml_phys.physics.lattice.Lattice` (square or chain, periodic or open; every
bond of ``lattice.edges`` counts once, so the doubled bonds of the periodic ``L = 2``
lattice couple with ``2J`` as on Kaufman's torus).

Both algorithms rest on the Fortuin–Kasteleyn representation: a bond between two aligned
neighbours is *active* with probability

.. math::  p = 1 - e^{-2 \beta J},

and the connected components of the active bonds are flipped as a whole.

* **Swendsen–Wang** (R. H. Swendsen and J.-S. Wang, PRL 58, 86 (1987),
  doi:10.1103/PhysRevLett.58.86): draw every bond, label all clusters, flip each with
  probability 1/2. Labelling is FastSV-style hooking and shortcutting in a
  ``lax.while_loop`` that stops when the labels no longer change (about log N rounds;
  see :func:`_label_clusters`).
* **Wolff** (U. Wolff, PRL 62, 361 (1989), doi:10.1103/PhysRevLett.62.361): grow one
  cluster from a uniformly random seed and flip it. In the sequential algorithm every bond
  from the cluster to an aligned site outside it is tried exactly once, with a fresh
  random number. Drawing every bond's activation once, up front, and growing the cluster
  breadth-first over the active bonds is therefore the same Markov chain (the cluster of
  the seed in the FK bond configuration); each growth round is a few vectorised shifts of
  the lattice, and the number of rounds is the chemical radius of the cluster seen from
  the seed (about 100 at L = 64, T = Tc), not its size.

Spins are ``int8`` in {-1, +1}. Batches are laid out ``(n_temps, n_chains, *lattice.shape)``
with inverse temperatures ``betas`` of shape ``(n_temps,)``; chains and temperatures are
independent and run under one ``vmap``. Traces from :func:`run` have shape
``(n_meas, n_temps, n_chains)``, as those of the Metropolis engine.

Cost: one Wolff step flips on average ``mean_cluster_size`` spins, i.e.
``mean_cluster_size / N`` sweeps; convert with :func:`sweeps_per_step`.

Backends (``backend=`` of :func:`wolff`, :func:`swendsen_wang` and :func:`run`):

* ``"jax"``: the vectorised kernels above, jit-compiled, ``vmap``-ed over chains; runs on
  any JAX device, and :func:`wolff` / :func:`swendsen_wang` accept a traced key and spins
  (inside ``jit``; ``betas`` must stay concrete).
* ``"numba"``: the textbook sequential algorithms compiled with ``numba.njit(cache=True)``
  for the CPU, one chain after another, thermalisation and measurements included (no
  Python work per step). Wolff grows the cluster with an explicit stack, flipping each
  site as it joins; a bond from a cluster site to a neighbour is tried once, when that
  site is popped and the neighbour still has the seed's old sign, with probability ``p``
  (open boundaries skip the ``-1`` entries of ``lattice.neighbors``; the doubled ``L = 2``
  bonds appear twice and each is tried, as the doubled coupling requires).
  Swendsen–Wang draws every bond of ``lattice.edges`` and labels clusters by union-find
  (path halving, union to the smaller root) in one pass. At L = 64, T = Tc a Wolff flip
  costs tens of microseconds instead of hundreds (``benchmarks/wolff_vs_metropolis.py``).
  Randomness: one 64-bit seed per (temperature, chain) is drawn from the key with
  ``jax.random.bits`` and seeds a NumPy ``Generator(PCG64(seed))`` that the compiled loop
  draws from; the chains are therefore a deterministic function of the key (and
  independent of JAX's x64 mode), but a different stream from the JAX backend's: the two
  backends sample the same distribution, not the same chain. (Numba's built-in
  ``np.random.seed`` inside ``njit`` takes a 32-bit seed and a hidden per-thread state, and
  its generator is slower; hence a ``Generator`` passed in.)
* ``"auto"`` (default): ``"numba"`` when JAX's default backend is the CPU, numba imports
  and no argument is a JAX tracer; ``"jax"`` otherwise.

Both backends return the same shapes, dtypes (JAX arrays) and meanings.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; "auto" falls back to JAX
    numba = None

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_positive_int,
    check_temperature,
)

__all__ = [
    "ALGORITHMS",
    "BACKENDS",
    "ClusterRun",
    "bond_probability",
    "energy_per_site",
    "run",
    "swendsen_wang",
    "sweeps_per_step",
    "wolff",
]

ALGORITHMS = ("wolff", "swendsen_wang")
BACKENDS = ("auto", "jax", "numba")


def bond_probability(beta, J=1.0):
    r"""Fortuin–Kasteleyn bond probability :math:`p = 1 - e^{-2\beta J}` (float32)."""
    beta = jnp.asarray(beta, jnp.float32)
    return -jnp.expm1(-2.0 * beta * jnp.asarray(J, jnp.float32))


# ---------------------------------------------------------------------------------------
# Bonds as arrays of the lattice shape: ``fwd[a][x]`` is the bond between ``x`` and
# ``x + e_a`` (wrapping when periodic). With periodic boundaries and ``L = 2`` the bonds
# ``0 -> 1`` and ``1 -> 0`` (wrap) are distinct entries, exactly as in ``lattice.edges``.
# Neighbour shifts are ``jnp.roll``: on a CPU several times faster than a gather through a
# neighbour table.


def _bond_exists(shape: tuple[int, ...], pbc: bool) -> list[np.ndarray | None]:
    """Per axis, where the forward bond exists (``None``: everywhere, periodic)."""
    if pbc:
        return [None] * len(shape)
    idx = np.indices(shape)
    return [idx[a] < shape[a] - 1 for a in range(len(shape))]


def _bond_sum(spins, pbc: bool):
    r""":math:`\sum_{\langle ij\rangle} s_i s_j` of ``(..., *shape)`` spins over the trailing
    lattice axes given by ``spins.ndim - batch``; here the lattice is the whole array."""
    shape = spins.shape
    s = spins.astype(jnp.int32)
    total = jnp.zeros((), jnp.int32)
    for a, exists in enumerate(_bond_exists(shape, pbc)):
        prod = s * jnp.roll(s, -1, a)
        if exists is not None:
            prod = jnp.where(exists, prod, 0)
        total = total + jnp.sum(prod, dtype=jnp.int32)
    return total


def _energy_per_site(spins, J, pbc: bool):
    """Per-site energy of one configuration ``spins`` (lattice shape), float32."""
    n = spins.size
    return -jnp.asarray(J, jnp.float32) * _bond_sum(spins, pbc).astype(jnp.float32) / n


def energy_per_site(spins, lattice, J=1.0):
    r"""Per-site energy :math:`e = -J \sum_{\langle ij\rangle} s_i s_j / N` (float32).

    Args:
        spins: ``(..., *lattice.shape)`` in {-1, +1}.
        lattice: the :class:`~qml_phys.physics.lattice.Lattice`.
    """
    s = jnp.asarray(spins)
    shape = tuple(lattice.shape)
    if s.shape[s.ndim - len(shape) :] != shape:
        raise ShapeError(f"expected spins of shape (..., *{shape}); got {s.shape}")
    flat = s.reshape((-1,) + shape)
    e = _energy_batch(flat, jnp.float32(J), pbc=bool(lattice.pbc))
    return e.reshape(s.shape[: s.ndim - len(shape)])


@partial(jax.jit, static_argnames=("pbc",))
def _energy_batch(spins, J, *, pbc):
    return jax.vmap(lambda x: _energy_per_site(x, J, pbc))(spins)


def _coin(key, shape):
    """Fair coins, ``shape`` bool (the top bit of 32 random bits; independent of x64)."""
    return (jax.random.bits(key, shape, jnp.uint32) >> 31) == 1


def _magnetization(spins):
    """Per-site magnetization of one configuration (float32, signed)."""
    return jnp.sum(spins, dtype=jnp.int32).astype(jnp.float32) / spins.size


# ---------------------------------------------------------------------------------------
# Single-chain kernels: spins (*shape) int8, beta () float32, J () float32.


def _draw_bonds(key, spins, beta, J, pbc: bool):
    """Draw the FK bonds. Returns per axis ``(fwd, bwd)`` uint8 arrays: the bond from
    ``x`` to ``x + e_a`` and from ``x`` to ``x - e_a`` is active."""
    shape = spins.shape
    p = bond_probability(beta, J)
    u = jax.random.uniform(key, (len(shape),) + shape, jnp.float32)
    bonds = []
    for a, exists in enumerate(_bond_exists(shape, pbc)):
        fwd = (spins == jnp.roll(spins, -1, a)) & (u[a] < p)
        if exists is not None:
            fwd = fwd & exists
        fwd = fwd.astype(jnp.uint8)
        bonds.append((fwd, jnp.roll(fwd, 1, a)))
    return bonds


def _wolff_step(key, spins, beta, J, pbc: bool):
    """One Wolff cluster flip. Returns ``(cluster_size int32, new spins)``."""
    shape = spins.shape
    k_seed, k_bond = jax.random.split(key)
    seed = jax.random.randint(k_seed, (), 0, spins.size, jnp.int32)
    bonds = _draw_bonds(k_bond, spins, beta, J, pbc)

    def grow(carry):
        cluster, _ = carry
        new = cluster
        for a, (fwd, bwd) in enumerate(bonds):
            new = new | (jnp.roll(cluster, -1, a) & fwd) | (jnp.roll(cluster, 1, a) & bwd)
        return new, jnp.any(new != cluster)

    cluster = jnp.zeros((spins.size,), jnp.uint8).at[seed].set(jnp.uint8(1)).reshape(shape)
    cluster, _ = jax.lax.while_loop(lambda c: c[1], grow, (cluster, jnp.array(True)))
    new_spins = jnp.where(cluster == 1, -spins, spins)
    return jnp.sum(cluster, dtype=jnp.int32), new_spins


def _label_clusters(bonds, shape):
    """Label the connected components of the active bonds of a batch of lattices.

    ``bonds``: per axis ``(fwd, bwd)`` uint8 of shape ``(B, *shape)``. Returns ``(B, *shape)``
    int32 global labels: every site gets the smallest global index ``b * N + i`` of its
    cluster. FastSV-style hooking and shortcutting (Y. Zhang, A. Azad and Z. Hu, "FastSV: a
    distributed-memory connected component algorithm with fast convergence", SIAM PP 2020,
    arXiv:1910.05971): each round, every site's grandparent ``gp`` is compared with its
    active neighbours' grandparents; the smallest value is hooked onto the site's parent
    (scatter-min) and onto the site itself, then one pointer jump. Labels only decrease and
    always name a site of the same cluster; the loop stops when nothing changes, which
    happens only when every cluster is a star rooted at its smallest site. Typically
    O(log N) rounds (6-7 at L = 64, T = Tc), against O(cluster diameter) for plain
    min-label propagation. The batch shares one flat index space, so gathers and scatters
    are one-dimensional (much faster on a CPU than batched ones).
    """
    n_batch = bonds[0][0].shape[0]
    full = (n_batch,) + tuple(shape)
    n = int(np.prod(full))
    big = jnp.int32(n)

    def body(carry):
        labels, _ = carry
        flat = labels.reshape(-1)
        gp = flat[flat].reshape(full)
        low = gp
        for a, (fwd, bwd) in enumerate(bonds):
            low = jnp.minimum(low, jnp.where(fwd == 1, jnp.roll(gp, -1, a + 1), big))
            low = jnp.minimum(low, jnp.where(bwd == 1, jnp.roll(gp, 1, a + 1), big))
        low = low.reshape(-1)
        new = flat.at[flat].min(low)  # hook my parent onto the lowest grandparent seen
        new = jnp.minimum(new, low)  # and myself
        new = jnp.minimum(new, new[new])  # shortcut
        new = new.reshape(full)
        return new, jnp.any(new != labels)

    labels = jnp.arange(n, dtype=jnp.int32).reshape(full)
    labels, _ = jax.lax.while_loop(lambda c: c[1], body, (labels, jnp.array(True)))
    return labels


def _sw_batch(keys, spins, betas, J, pbc: bool):
    """One Swendsen–Wang update of a batch: ``keys (B,)``, ``spins (B, *shape)``, ``betas
    (B,)``. Returns ``(n_clusters (B,) int32, new spins)``."""
    shape = spins.shape[1:]
    n_batch, n = spins.shape[0], int(np.prod(shape))
    keys = jax.vmap(jax.random.split)(keys)
    draw = jax.vmap(lambda k, s, b: _draw_bonds(k, s, b, J, pbc))
    bonds = draw(keys[:, 0], spins, betas)
    labels = _label_clusters(bonds, shape).reshape(-1)
    coin = jax.vmap(partial(_coin, shape=(n,)))(keys[:, 1]).reshape(-1)
    flip = coin[labels].reshape(spins.shape)
    new_spins = jnp.where(flip, -spins, spins)
    roots = (labels == jnp.arange(n_batch * n, dtype=jnp.int32)).reshape(n_batch, n)
    return jnp.sum(roots, axis=1, dtype=jnp.int32), new_spins


def _wolff_grid(keys, spins, betas, J, pbc: bool):
    """Wolff step of every chain: ``keys (T, C)``, ``spins (T, C, *shape)``, ``betas (T,)``."""
    one = partial(_wolff_step, pbc=pbc)
    return jax.vmap(jax.vmap(one, in_axes=(0, 0, None, None)), in_axes=(0, 0, 0, None))(
        keys, spins, betas, J
    )


def _sw_grid(keys, spins, betas, J, pbc: bool):
    """Swendsen–Wang update of every chain, all chains and temperatures in one batch."""
    n_temps, n_chains = spins.shape[:2]
    flat_betas = jnp.repeat(betas, n_chains)
    out, new = _sw_batch(
        keys.reshape(-1), spins.reshape((-1,) + spins.shape[2:]), flat_betas, J, pbc
    )
    return out.reshape(n_temps, n_chains), new.reshape(spins.shape)


_KERNELS = {"wolff": _wolff_grid, "swendsen_wang": _sw_grid}


def _batched_steps(kernel, key, spins, betas, J, pbc, n_steps):
    """``n_steps`` updates of every chain; spins ``(T, C, *shape)``. Returns the per-chain
    sum of the kernel's first output and the new spins."""
    n_temps, n_chains = spins.shape[:2]

    def body(i, carry):
        spins, total = carry
        keys = jax.random.split(jax.random.fold_in(key, i), (n_temps, n_chains))
        out, spins = kernel(keys, spins, betas, J, pbc)
        return spins, total + out

    total = jnp.zeros((n_temps, n_chains), jnp.int32)
    spins, total = jax.lax.fori_loop(0, n_steps, body, (spins, total))
    return total, spins


# Loop counts are traced (one compiled program serves every number of steps); only the
# number of measurements, which sets the trace shape, is static.
@partial(jax.jit, static_argnames=("algorithm", "pbc"))
def _steps_impl(key, spins, betas, J, n_steps, *, algorithm, pbc):
    total, spins = _batched_steps(_KERNELS[algorithm], key, spins, betas, J, pbc, n_steps)
    return total.astype(jnp.float32) / n_steps.astype(jnp.float32), spins


@partial(jax.jit, static_argnames=("algorithm", "n_meas", "pbc"))
def _run_impl(key, spins, betas, J, n_therm, steps_per_meas, *, algorithm, n_meas, pbc):
    kernel = _KERNELS[algorithm]
    k_therm, k_meas = jax.random.split(key)
    _, spins = _batched_steps(kernel, k_therm, spins, betas, J, pbc, n_therm)
    observe = jax.vmap(jax.vmap(lambda s: (_energy_per_site(s, J, pbc), _magnetization(s))))

    def measure(carry, i):
        spins, total = carry
        out, spins = _batched_steps(
            kernel, jax.random.fold_in(k_meas, i), spins, betas, J, pbc, steps_per_meas
        )
        e, m = observe(spins)
        return (spins, total + out), (e, m)

    total = jnp.zeros(spins.shape[:2], jnp.int32)
    (spins, total), (e, m) = jax.lax.scan(
        measure, (spins, total), jnp.arange(n_meas, dtype=jnp.int32)
    )
    mean_out = total.astype(jnp.float32) / (n_meas * steps_per_meas).astype(jnp.float32)
    return e, m, mean_out, spins


# ---------------------------------------------------------------------------------------
# Compiled CPU backend (numba). One chain per call: ``spins`` ``(N,)`` int8, modified in
# place; ``rng`` a NumPy Generator; ``energy`` and ``magnetization`` ``(n_meas,)`` float32,
# written after every ``steps_per_meas`` updates that follow ``n_therm`` discarded ones.
# Fixed argument dtypes (int8 spins, int64 tables and counts, float64 p and J, float32
# traces) keep one compiled signature per kernel, cached on disk by ``cache=True``.


def _compiled(fn):
    """``numba.njit(cache=True)`` when numba is installed (else the plain function, which
    is never called: :func:`_check_backend` refuses ``"numba"`` without numba)."""
    return fn if numba is None else numba.njit(cache=True)(fn)


@_compiled
def _bond_sum_nb(spins, edges):
    r""":math:`\sum_{\langle ij\rangle} s_i s_j` over the ``(n_bonds, 2)`` bond list."""
    total = 0
    for b in range(edges.shape[0]):
        total += np.int64(spins[edges[b, 0]]) * np.int64(spins[edges[b, 1]])
    return total


@_compiled
def _wolff_chain_nb(
    spins, neighbors, edges, p, rng, n_therm, n_meas, steps_per_meas, J, energy, magnetization
):
    """Sequential Wolff (Wolff 1989) on one chain; returns the summed cluster size of the
    measured steps. ``neighbors`` ``(N, z)`` int64 with ``-1`` for a missing neighbour."""
    n, z = neighbors.shape
    stack = np.empty(n, np.int64)
    m_sum = 0
    for i in range(n):
        m_sum += np.int64(spins[i])
    size_sum = 0
    for t in range(n_therm + n_meas * steps_per_meas):
        seed = rng.integers(0, n)
        s0 = spins[seed]
        spins[seed] = -s0
        stack[0] = seed
        top = 1
        size = 1
        while top > 0:
            top -= 1
            i = stack[top]
            for k in range(z):
                j = neighbors[i, k]
                # a site in the cluster is already flipped, so "aligned with the seed's
                # old sign" means "aligned and not yet in the cluster"
                if j >= 0 and spins[j] == s0 and rng.random() < p:
                    spins[j] = -s0
                    stack[top] = j
                    top += 1
                    size += 1
        m_sum -= 2 * np.int64(s0) * size
        if t >= n_therm:
            size_sum += size
            u = t - n_therm + 1
            if u % steps_per_meas == 0:
                k_meas = u // steps_per_meas - 1
                energy[k_meas] = -J * _bond_sum_nb(spins, edges) / n
                magnetization[k_meas] = m_sum / n
    return size_sum


@_compiled
def _find_root_nb(parent, i):
    """Root of ``i`` in the union-find forest, halving the path on the way."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@_compiled
def _sw_chain_nb(spins, edges, p, rng, n_therm, n_meas, steps_per_meas, J, energy, magnetization):
    """Swendsen–Wang (1987) on one chain by union-find; returns the summed number of
    clusters of the measured updates. ``edges`` ``(n_bonds, 2)`` int64."""
    n = spins.shape[0]
    parent = np.empty(n, np.int64)
    flip = np.empty(n, np.bool_)
    n_cl_sum = 0
    for t in range(n_therm + n_meas * steps_per_meas):
        for i in range(n):
            parent[i] = i
        for b in range(edges.shape[0]):
            a, c = edges[b, 0], edges[b, 1]
            if spins[a] == spins[c] and rng.random() < p:
                ra, rc = _find_root_nb(parent, a), _find_root_nb(parent, c)
                if ra < rc:
                    parent[rc] = ra
                elif rc < ra:
                    parent[ra] = rc
        # every root is the smallest site of its cluster, so in increasing order a
        # cluster's coin is drawn (at its root) before any other member reads it
        n_cl = 0
        m_sum = 0
        for i in range(n):
            r = _find_root_nb(parent, i)
            if r == i:
                flip[i] = rng.random() < 0.5
                n_cl += 1
            if flip[r]:
                spins[i] = -spins[i]
            m_sum += np.int64(spins[i])
        if t >= n_therm:
            n_cl_sum += n_cl
            u = t - n_therm + 1
            if u % steps_per_meas == 0:
                k_meas = u // steps_per_meas - 1
                energy[k_meas] = -J * _bond_sum_nb(spins, edges) / n
                magnetization[k_meas] = m_sum / n
    return n_cl_sum


def _chain_seeds(key, n_chains_total: int) -> np.ndarray:
    """``(n_chains_total,)`` uint64 seeds from 2 x 32 random bits of ``key`` each (32-bit
    words, so the seeds do not depend on JAX's x64 mode)."""
    w = np.asarray(jax.random.bits(key, (n_chains_total, 2), jnp.uint32)).astype(np.uint64)
    return (w[:, 0] << np.uint64(32)) | w[:, 1]


def _numba_run(
    algorithm, key, spins, betas, J: float, lattice, n_therm: int, n_meas: int, steps_per_meas: int
):
    """Run the compiled kernel on every chain.

    Args:
        spins: ``(n_temps, n_chains, *lattice.shape)`` int8 (not modified).
        betas: ``(n_temps,)`` float64.

    Returns:
        ``(energy, magnetization, totals, spins)``: traces ``(n_meas, n_temps, n_chains)``
        float32, per-chain sums of the kernel's count ``(n_temps, n_chains)`` int64 and the
        new spins, all NumPy.
    """
    n_temps, n_chains = spins.shape[:2]
    n_total, n = n_temps * n_chains, lattice.n_sites
    flat = np.array(spins, dtype=np.int8, order="C").reshape(n_total, n)
    p = -np.expm1(-2.0 * np.asarray(betas, np.float64) * J)
    edges = np.ascontiguousarray(lattice.edges, np.int64)
    neighbors = np.ascontiguousarray(lattice.neighbors, np.int64)
    energy = np.empty((n_total, n_meas), np.float32)
    magnetization = np.empty((n_total, n_meas), np.float32)
    totals = np.empty(n_total, np.int64)
    args = (int(n_therm), int(n_meas), int(steps_per_meas), float(J))
    for c, seed in enumerate(_chain_seeds(key, n_total)):
        rng = np.random.Generator(np.random.PCG64(int(seed)))
        p_c = float(p[c // n_chains])
        if algorithm == "wolff":
            totals[c] = _wolff_chain_nb(
                flat[c], neighbors, edges, p_c, rng, *args, energy[c], magnetization[c]
            )
        else:
            totals[c] = _sw_chain_nb(flat[c], edges, p_c, rng, *args, energy[c], magnetization[c])

    def trace(x):
        return np.ascontiguousarray(x.reshape(n_temps, n_chains, n_meas).transpose(2, 0, 1))

    return (
        trace(energy),
        trace(magnetization),
        totals.reshape(n_temps, n_chains),
        flat.reshape(spins.shape),
    )


# ---------------------------------------------------------------------------------------
# Validation and public API.


def _check_ferromagnet(J, h) -> float:
    """Return J as a float after checking the cluster algorithms apply (J > 0, h = 0)."""
    J_arr = np.asarray(J, np.float64)
    if J_arr.size == 0 or not np.all(np.isfinite(J_arr)):
        raise InvalidParameterError(f"expected a finite coupling J; got {J!r}")
    if J_arr.ndim > 0 and not np.all(J_arr == J_arr.flat[0]):
        raise InvalidParameterError(
            "cluster algorithms need a uniform coupling: expected one value of J on every "
            f"bond; got values from {J_arr.min()} to {J_arr.max()}"
        )
    J_val = float(J_arr.flat[0])
    if J_val <= 0:
        raise InvalidParameterError(
            "Wolff and Swendsen-Wang need a ferromagnetic coupling (their clusters only "
            f"join aligned spins): expected J > 0; got J = {J_val}. "
            "Use qml_phys.classical.metropolis or annealing for J <= 0."
        )
    h_arr = np.asarray(h, np.float64)
    if np.any(h_arr != 0):
        raise InvalidParameterError(
            "Wolff and Swendsen-Wang flip clusters without regard to a field: expected "
            f"h = 0; got h = {h!r}. Use qml_phys.classical.metropolis for h != 0."
        )
    return J_val


def _resolve(lattice_or_model, J, h):
    """Accept a Lattice (with J, h given) or a model with ``lattice``, ``J``, ``h``."""
    if hasattr(lattice_or_model, "lattice"):
        model = lattice_or_model
        lattice = model.lattice
        gamma = getattr(model, "gamma", 0.0)
        if gamma != 0:
            raise InvalidParameterError(
                "cluster algorithms sample the classical Ising model: expected no transverse "
                f"field; got gamma = {gamma!r}"
            )
        J = getattr(model, "J", 1.0) if J is None else J
        h = getattr(model, "h", 0.0) if h is None else h
    else:
        lattice = lattice_or_model
    if not all(hasattr(lattice, a) for a in ("shape", "pbc", "n_sites")):
        raise InvalidParameterError(
            f"expected a Lattice or a model with a .lattice; got {type(lattice_or_model).__name__}"
        )
    J = 1.0 if J is None else J
    h = 0.0 if h is None else h
    return lattice, _check_ferromagnet(J, h)


def _betas_from_temperatures(temperatures) -> np.ndarray:
    t = np.atleast_1d(np.asarray(temperatures, dtype=object))
    if t.ndim != 1 or t.size == 0:
        raise ShapeError(
            f"expected temperatures as a scalar or a 1-d sequence; got shape {t.shape}"
        )
    return np.array([1.0 / check_temperature(x) for x in t])


def _check_betas(betas) -> jax.Array:
    b = np.asarray(betas, np.float64)
    if b.ndim != 1 or b.size == 0:
        raise ShapeError(f"expected betas of shape (n_temps,); got shape {b.shape}")
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise InvalidParameterError(
            f"expected inverse temperatures beta > 0 (T > 0); got {b.tolist()}"
        )
    return jnp.asarray(b, jnp.float32)


def _check_spins(spins, lattice, n_temps, backend: str = "jax"):
    """Spins as int8: a JAX array for ``backend="jax"``, a NumPy copy for ``"numba"``."""
    shape = tuple(lattice.shape)
    got = tuple(np.shape(spins))
    if len(got) != 2 + len(shape) or got[2:] != shape or got[0] != n_temps:
        raise ShapeError(
            f"expected spins of shape (n_temps={n_temps}, n_chains, *{shape}); got {got}"
        )
    if backend == "numba":
        return np.array(spins, dtype=np.int8, order="C")
    return jnp.asarray(spins).astype(jnp.int8)


def _check_backend(backend: str, *arrays) -> str:
    """Resolve ``backend`` (see the module docstring) to ``"jax"`` or ``"numba"``."""
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise UnknownNameError(f"expected backend in {BACKENDS}; got {backend!r}")
    traced = any(isinstance(a, jax.core.Tracer) for a in arrays)
    if backend == "auto":
        cpu = jax.default_backend() == "cpu"
        return "numba" if numba is not None and cpu and not traced else "jax"
    if backend == "numba" and numba is None:
        raise InvalidParameterError(
            "backend='numba' needs the numba package: expected it importable; got an "
            "ImportError. Install qml_phys's dependencies (pip install numba==0.68.1) or use "
            "backend='jax'."
        )
    if backend == "numba" and traced:
        raise InvalidParameterError(
            "backend='numba' runs outside JAX tracing: expected concrete arrays; got a JAX "
            "tracer (called inside jit, vmap or grad?). Use backend='jax' there."
        )
    return backend


def _check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise UnknownNameError(f"expected algorithm in {ALGORITHMS}; got {algorithm!r}")
    return algorithm


def wolff(key, spins, betas, *, lattice, n_steps: int, J=1.0, h=0.0, backend="auto"):
    r"""``n_steps`` Wolff cluster flips of every chain.

    Args:
        key: JAX PRNG key.
        spins: ``(n_temps, n_chains, *lattice.shape)`` int8 in {-1, +1}.
        betas: ``(n_temps,)`` inverse temperatures ``1/T`` (units of ``1/J``), > 0.
        lattice: the :class:`~qml_phys.physics.lattice.Lattice`.
        n_steps: number of cluster flips (not sweeps; see :func:`sweeps_per_step`).
        J, h: coupling (> 0) and field (must be 0), checked.
        backend: ``"auto"``, ``"jax"`` or ``"numba"`` (see the module docstring).

    Returns:
        ``(mean_cluster_size, spins)``: ``(n_temps, n_chains)`` float32 mean number of
        spins flipped per step, and the new spins (same shape as given).
    """
    n_steps = check_positive_int("n_steps", n_steps)
    return _update("wolff", key, spins, betas, lattice, n_steps, J, h, backend)


def swendsen_wang(key, spins, betas, *, lattice, n_sweeps: int, J=1.0, h=0.0, backend="auto"):
    r"""``n_sweeps`` Swendsen–Wang updates of every chain (each flips every cluster with
    probability 1/2).

    Args:
        key: JAX PRNG key.
        spins: ``(n_temps, n_chains, *lattice.shape)`` int8 in {-1, +1}.
        betas: ``(n_temps,)`` inverse temperatures, > 0.
        lattice: the :class:`~qml_phys.physics.lattice.Lattice`.
        n_sweeps: number of updates.
        J, h: coupling (> 0) and field (must be 0), checked.
        backend: ``"auto"``, ``"jax"`` or ``"numba"`` (see the module docstring).

    Returns:
        ``(mean_n_clusters, spins)``: ``(n_temps, n_chains)`` float32 mean number of FK
        clusters per update, and the new spins.
    """
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    return _update("swendsen_wang", key, spins, betas, lattice, n_sweeps, J, h, backend)


def _update(algorithm, key, spins, betas, lattice, n_steps, J, h, backend):
    """``n_steps`` updates of ``algorithm``; returns (per-chain mean statistic, spins)."""
    J = _check_ferromagnet(J, h)
    b = _check_betas(betas)
    backend = _check_backend(backend, key, spins, betas)
    s = _check_spins(spins, lattice, b.shape[0], backend)
    if backend == "numba":
        _, _, total, s = _numba_run(
            algorithm, key, s, np.asarray(betas, np.float64), J, lattice, 0, 1, n_steps
        )
        return jnp.asarray(total / n_steps, jnp.float32), jnp.asarray(s)
    return _steps_impl(
        key,
        s,
        b,
        jnp.float32(J),
        jnp.int32(n_steps),
        algorithm=algorithm,
        pbc=bool(lattice.pbc),
    )


class ClusterRun(NamedTuple):
    """Result of :func:`run`.

    Attributes:
        temperatures: ``(n_temps,)`` float64.
        energy: ``(n_meas, n_temps, n_chains)`` float32 energy per site, units of J.
        magnetization: ``(n_meas, n_temps, n_chains)`` float32 signed magnetization per site.
        spins: ``(n_temps, n_chains, *lattice.shape)`` int8 final configurations.
        mean_cluster_size: ``(n_temps, n_chains)`` float32 mean spins flipped per Wolff step
            during measurement; for Swendsen–Wang, the mean FK cluster size ``N / n_clusters``.
        n_clusters: ``(n_temps, n_chains)`` float32 mean number of clusters per
            Swendsen–Wang update (1 for Wolff, which builds one per step).
        steps_per_meas: updates between measurements.
        algorithm: ``"wolff"`` or ``"swendsen_wang"``.
        backend: ``"jax"`` or ``"numba"``, the one that ran (``"auto"`` resolved).
    """

    temperatures: np.ndarray
    energy: jax.Array
    magnetization: jax.Array
    spins: jax.Array
    mean_cluster_size: jax.Array
    n_clusters: jax.Array
    steps_per_meas: int
    algorithm: str
    backend: str


def _initial_spins(key, init, shape):
    if isinstance(init, str):
        if init == "random":
            return jnp.where(_coin(key, shape), 1, -1).astype(jnp.int8)
        if init == "up":
            return jnp.ones(shape, jnp.int8)
        raise UnknownNameError(f"expected init 'random', 'up' or an array; got {init!r}")
    s = jnp.asarray(init)
    if s.shape != shape:
        raise ShapeError(f"expected initial spins of shape {shape}; got {s.shape}")
    return s.astype(jnp.int8)


def run(
    key,
    lattice_or_model,
    temperatures,
    *,
    algorithm: str = "wolff",
    n_chains: int = 1,
    n_therm: int = 100,
    n_meas: int = 1000,
    steps_per_meas: int = 1,
    J=None,
    h=None,
    init="random",
    backend: str = "auto",
) -> ClusterRun:
    """Run cluster Monte Carlo at several temperatures and record energy and
    magnetization after every ``steps_per_meas`` updates.

    Args:
        key: JAX PRNG key.
        lattice_or_model: a :class:`~qml_phys.physics.lattice.Lattice`, or an Ising model
            with ``lattice``, ``J`` and ``h`` attributes (must be a ferromagnet, ``h = 0``).
        temperatures: scalar or ``(n_temps,)`` temperatures in units of ``J``, > 0.
        algorithm: ``"wolff"`` (one cluster flip per step) or ``"swendsen_wang"``.
        n_chains: independent chains per temperature.
        n_therm: updates discarded before measuring (may be 0).
        n_meas: number of measurements.
        steps_per_meas: updates between measurements.
        J, h: coupling and field when a bare lattice is given (defaults 1 and 0).
        init: ``"random"``, ``"up"`` or spins ``(n_temps, n_chains, *lattice.shape)``.
        backend: ``"auto"``, ``"jax"`` or ``"numba"`` (see the module docstring). The
            initial spins are drawn the same way by both.

    Returns:
        :class:`ClusterRun` with traces of shape ``(n_meas, n_temps, n_chains)``.
    """
    lattice, J = _resolve(lattice_or_model, J, h)
    algorithm = _check_algorithm(algorithm)
    temps = 1.0 / _betas_from_temperatures(temperatures)
    n_chains = check_positive_int("n_chains", n_chains)
    n_therm = check_positive_int("n_therm", n_therm, minimum=0)
    n_meas = check_positive_int("n_meas", n_meas)
    steps_per_meas = check_positive_int("steps_per_meas", steps_per_meas)
    backend = _check_backend(backend, key, init)
    k_init, k_run = jax.random.split(key)
    shape = (len(temps), n_chains) + tuple(lattice.shape)
    spins = _initial_spins(k_init, init, shape)
    if backend == "numba":
        e, m, total, spins = _numba_run(
            algorithm, k_run, spins, 1.0 / temps, J, lattice, n_therm, n_meas, steps_per_meas
        )
        out = jnp.asarray(total / (n_meas * steps_per_meas), jnp.float32)
        e, m, spins = jnp.asarray(e), jnp.asarray(m), jnp.asarray(spins)
    else:
        e, m, out, spins = _run_impl(
            k_run,
            spins,
            jnp.asarray(1.0 / temps, jnp.float32),
            jnp.float32(J),
            jnp.int32(n_therm),
            jnp.int32(steps_per_meas),
            algorithm=algorithm,
            n_meas=n_meas,
            pbc=bool(lattice.pbc),
        )
    n = lattice.n_sites
    if algorithm == "wolff":
        size, n_cl = out, jnp.ones_like(out)
    else:
        size, n_cl = n / out, out
    return ClusterRun(temps, e, m, spins, size, n_cl, steps_per_meas, algorithm, backend)


def sweeps_per_step(result: ClusterRun, n_sites: int) -> np.ndarray:
    """Lattice sweeps per update, ``(n_temps,)``: ``<|C|> / N`` for Wolff, 1 for
    Swendsen–Wang. Multiply a time measured in updates by this to get sweeps."""
    if result.algorithm == "swendsen_wang":
        return np.ones(len(result.temperatures))
    return np.asarray(result.mean_cluster_size, np.float64).mean(axis=1) / n_sites
