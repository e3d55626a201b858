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
independent and run under one ``vmap``. Traces from :func:`measure` have shape
``(n_meas, n_temps, n_chains)``, as those of the Metropolis engine. The samplers
:class:`~qml_phys.classical.samplers.Wolff` and
:class:`~qml_phys.classical.samplers.SwendsenWang` drive these kernels.

Cost: one Wolff step flips on average ``mean_cluster_size`` spins, i.e.
``mean_cluster_size / N`` sweeps.

Backends (``backend=`` of :func:`wolff`, :func:`swendsen_wang` and :func:`measure`), the
numba one in :mod:`~qml_phys.classical.cluster_numba`:

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

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.classical.cluster_numba import numba, numba_run
from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_positive_int,
)
from qml_phys.runtime import rng

__all__ = [
    "ALGORITHMS",
    "BACKENDS",
    "bond_probability",
    "energy_per_site",
    "measure",
    "swendsen_wang",
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
    return (rng.bits(key, shape, jnp.uint32) >> 31) == 1


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
    u = rng.uniform(key, (len(shape),) + shape, jnp.float32)
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
            f"expected a Lattice or a model with a .lattice; got {type(lattice_or_model).__name__}"
        )
    J = 1.0 if J is None else J
    h = 0.0 if h is None else h
    return lattice, _check_ferromagnet(J, h)


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
        _, _, total, s = numba_run(
            algorithm, key, s, np.asarray(betas, np.float64), J, lattice, 1, n_steps
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


def measure(
    key,
    spins,
    betas,
    *,
    model,
    n_meas: int,
    steps_per_meas: int = 1,
    algorithm: str = "wolff",
    backend: str = "auto",
):
    """Run cluster updates from ``spins`` and record energy and magnetization per site
    after every ``steps_per_meas`` updates (the kernel behind the
    :class:`~qml_phys.classical.samplers.Wolff` and
    :class:`~qml_phys.classical.samplers.SwendsenWang` samplers).

    Args:
        key: JAX PRNG key.
        spins: ``(n_temps, n_chains, *lattice.shape)`` int8 in {-1, +1}.
        betas: ``(n_temps,)`` inverse temperatures, > 0.
        model: a ferromagnetic Ising model with ``lattice``, ``J`` (> 0) and ``h`` (= 0), or
            a bare :class:`~qml_phys.physics.lattice.Lattice` (``J = 1``, ``h = 0``).
        n_meas: number of measurements.
        steps_per_meas: updates between measurements (Wolff: cluster flips).
        algorithm: ``"wolff"`` or ``"swendsen_wang"``.
        backend: ``"auto"``, ``"jax"`` or ``"numba"`` (see the module docstring).

    Returns:
        ``(energy, magnetization, statistic, spins)``: traces ``(n_meas, n_temps,
        n_chains)`` float32, the per-chain mean statistic of the updates ``(n_temps,
        n_chains)`` float32 (Wolff: spins flipped per step; Swendsen-Wang: clusters per
        update), and the new spins.
    """
    lattice, J = _resolve(model, None, None)
    algorithm = _check_algorithm(algorithm)
    b = _check_betas(betas)
    n_meas = check_positive_int("n_meas", n_meas)
    steps_per_meas = check_positive_int("steps_per_meas", steps_per_meas)
    backend = _check_backend(backend, key, spins)
    s = _check_spins(spins, lattice, b.shape[0], backend)
    if backend == "numba":
        e, m, total, s = numba_run(
            algorithm, key, s, np.asarray(betas, np.float64), J, lattice, n_meas, steps_per_meas
        )
        stat = jnp.asarray(total / (n_meas * steps_per_meas), jnp.float32)
        return jnp.asarray(e), jnp.asarray(m), stat, jnp.asarray(s)
    return _run_impl(
        key,
        s,
        b,
        jnp.float32(J),
        jnp.int32(0),
        jnp.int32(steps_per_meas),
        algorithm=algorithm,
        n_meas=n_meas,
        pbc=bool(lattice.pbc),
    )
