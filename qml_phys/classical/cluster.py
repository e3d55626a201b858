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
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_positive_int,
    check_temperature,
)

__all__ = [
    "ALGORITHMS",
    "ClusterRun",
    "bond_probability",
    "energy_per_site",
    "run",
    "swendsen_wang",
    "sweeps_per_step",
    "wolff",
]

ALGORITHMS = ("wolff", "swendsen_wang")


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
    if s.shape[s.ndim - len(shape):] != shape:
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
            "expected a Lattice or a model with a .lattice; got "
            f"{type(lattice_or_model).__name__}"
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


def _check_spins(spins, lattice, n_temps) -> jax.Array:
    shape = tuple(lattice.shape)
    s = jnp.asarray(spins)
    if s.ndim != 2 + len(shape) or s.shape[2:] != shape or s.shape[0] != n_temps:
        raise ShapeError(
            f"expected spins of shape (n_temps={n_temps}, n_chains, *{shape}); got {s.shape}"
        )
    return s.astype(jnp.int8)


def _check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise UnknownNameError(f"expected algorithm in {ALGORITHMS}; got {algorithm!r}")
    return algorithm


def wolff(key, spins, betas, *, lattice, n_steps: int, J=1.0, h=0.0):
    r"""``n_steps`` Wolff cluster flips of every chain.

    Args:
        key: JAX PRNG key.
        spins: ``(n_temps, n_chains, *lattice.shape)`` int8 in {-1, +1}.
        betas: ``(n_temps,)`` inverse temperatures ``1/T`` (units of ``1/J``), > 0.
        lattice: the :class:`~qml_phys.physics.lattice.Lattice`.
        n_steps: number of cluster flips (not sweeps; see :func:`sweeps_per_step`).
        J, h: coupling (> 0) and field (must be 0), checked.

    Returns:
        ``(mean_cluster_size, spins)``: ``(n_temps, n_chains)`` float32 mean number of
        spins flipped per step, and the new spins (same shape as given).
    """
    J = _check_ferromagnet(J, h)
    n_steps = check_positive_int("n_steps", n_steps)
    b = _check_betas(betas)
    s = _check_spins(spins, lattice, b.shape[0])
    size, s = _steps_impl(
        key, s, b, jnp.float32(J), jnp.int32(n_steps), algorithm="wolff", pbc=bool(lattice.pbc)
    )
    return size, s


def swendsen_wang(key, spins, betas, *, lattice, n_sweeps: int, J=1.0, h=0.0):
    r"""``n_sweeps`` Swendsen–Wang updates of every chain (each flips every cluster with
    probability 1/2).

    Args:
        key: JAX PRNG key.
        spins: ``(n_temps, n_chains, *lattice.shape)`` int8 in {-1, +1}.
        betas: ``(n_temps,)`` inverse temperatures, > 0.
        lattice: the :class:`~qml_phys.physics.lattice.Lattice`.
        n_sweeps: number of updates.
        J, h: coupling (> 0) and field (must be 0), checked.

    Returns:
        ``(mean_n_clusters, spins)``: ``(n_temps, n_chains)`` float32 mean number of FK
        clusters per update, and the new spins.
    """
    J = _check_ferromagnet(J, h)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    b = _check_betas(betas)
    s = _check_spins(spins, lattice, b.shape[0])
    n_cl, s = _steps_impl(
        key,
        s,
        b,
        jnp.float32(J),
        jnp.int32(n_sweeps),
        algorithm="swendsen_wang",
        pbc=bool(lattice.pbc),
    )
    return n_cl, s


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
    """

    temperatures: np.ndarray
    energy: jax.Array
    magnetization: jax.Array
    spins: jax.Array
    mean_cluster_size: jax.Array
    n_clusters: jax.Array
    steps_per_meas: int
    algorithm: str


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
    k_init, k_run = jax.random.split(key)
    shape = (len(temps), n_chains) + tuple(lattice.shape)
    spins = _initial_spins(k_init, init, shape)
    betas = jnp.asarray(1.0 / temps, jnp.float32)
    e, m, out, spins = _run_impl(
        k_run,
        spins,
        betas,
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
    return ClusterRun(temps, e, m, spins, size, n_cl, steps_per_meas, algorithm)


def sweeps_per_step(result: ClusterRun, n_sites: int) -> np.ndarray:
    """Lattice sweeps per update, ``(n_temps,)``: ``<|C|> / N`` for Wolff, 1 for
    Swendsen–Wang. Multiply a time measured in updates by this to get sweeps."""
    if result.algorithm == "swendsen_wang":
        return np.ones(len(result.temperatures))
    return np.asarray(result.mean_cluster_size, np.float64).mean(axis=1) / n_sites
