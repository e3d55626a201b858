r"""The compiled CPU backend of the cluster algorithms (numba): the textbook sequential
Wolff and Swendsen-Wang updates, one chain after another, thermalisation and
measurements included (no Python work per step). See :mod:`qml_phys.classical.cluster`
for the algorithms, the backend choice and the random streams.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; "auto" falls back to JAX
    numba = None

__all__ = ["numba", "numba_run"]


# One chain per call: ``spins`` ``(N,)`` int8, modified in
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
def _record_nb(u, steps_per_meas, spins, edges, J, m_sum, energy, magnetization):
    """After the ``u``-th measured update, every ``steps_per_meas``-th one: store the energy
    and magnetisation per site of ``spins`` (``m_sum`` their sum) in measurement
    ``u // steps_per_meas - 1``."""
    if u % steps_per_meas == 0:
        n = spins.shape[0]
        k = u // steps_per_meas - 1
        energy[k] = -J * _bond_sum_nb(spins, edges) / n
        magnetization[k] = m_sum / n


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
            _record_nb(
                t - n_therm + 1, steps_per_meas, spins, edges, J, m_sum, energy, magnetization
            )
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
            _record_nb(
                t - n_therm + 1, steps_per_meas, spins, edges, J, m_sum, energy, magnetization
            )
    return n_cl_sum


def _chain_seeds(key, n_chains_total: int) -> np.ndarray:
    """``(n_chains_total,)`` uint64 seeds from 2 x 32 random bits of ``key`` each (32-bit
    words, so the seeds do not depend on JAX's x64 mode)."""
    w = np.asarray(jax.random.bits(key, (n_chains_total, 2), jnp.uint32)).astype(np.uint64)
    return (w[:, 0] << np.uint64(32)) | w[:, 1]


def numba_run(algorithm, key, spins, betas, J: float, lattice, n_meas: int, steps_per_meas: int):
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
    args = (0, int(n_meas), int(steps_per_meas), float(J))  # no thermalisation here
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
