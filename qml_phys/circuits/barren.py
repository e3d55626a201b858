r"""Fast gradient-variance engine for barren-plateau studies.

Estimates :math:`\mathrm{Var}[\partial C / \partial\theta_k]` over an ensemble of random
circuits with a pure-JAX state-vector simulator: the state is a flat ``(2**n,)`` complex
vector (wire 0 is the most significant bit, as in PennyLane). A layer of single-qubit gates
is one ``lax.scan`` over wires whose body applies a ``2 x 2`` matrix to the leading qubit
and rotates the qubit order by one (so the compiled program does not grow with ``n``); a
CNOT ring is one fixed index permutation and a CZ ladder one fixed sign vector;
``lax.scan`` runs over layers (compile time does not grow with depth) with
``jax.checkpoint`` per layer (memory ``O(n_layers 2**n)`` per circuit, not
``O(n_layers n 2**n)``); ``jax.grad`` gives all partial derivatives, and ``jax.vmap`` runs
the ensemble of random draws in chunks sized to a memory limit, in one jitted call.

Circuits (parameters ``theta`` and gate axes ``axes`` of shape ``(n_layers, n_qubits, r)``,
axes in ``{0: X, 1: Y, 2: Z}``; ``r = 2`` rotations per wire and layer for ``"hea"`` and
``"random"``, ``r = 1`` for ``"mcclean"``):

* ``gates="hea"`` -- exactly :class:`qml_phys.circuits.ansatz.HardwareEfficient`: per layer
  ``RY(theta[l, w, 0])`` then ``RZ(theta[l, w, 1])`` on each wire ``w``, then CNOTs
  ``(0,1), (1,2), ..., (n-1,0)`` (one CNOT for ``n = 2``, none for ``n = 1``).
* ``gates="random"`` -- the same layout, but each of the two rotations is ``RX``, ``RY`` or
  ``RZ`` drawn uniformly per gate and per circuit draw.
* ``gates="mcclean"`` -- the circuit of J. R. McClean et al., Nat. Commun. 9, 4812 (2018),
  arXiv:1803.11173: a fixed initial ``RY(pi/4)`` on every qubit, then per layer one random
  Pauli rotation ``RX|RY|RZ(theta[l, w, 0])`` per qubit followed by the CZ ladder
  ``CZ(0,1), CZ(1,2), ..., CZ(n-2,n-1)``.

``R_P(t) = exp(-i t P / 2)``, as in PennyLane.

Costs are diagonal observables, :math:`C = \sum_k |\psi_k|^2 f_k` (see :func:`cost_values`):

* ``"global"``: :math:`C = 1 - |\langle 0\ldots0|\psi\rangle|^2` (M. Cerezo et al.,
  Nat. Commun. 12, 1791 (2021), arXiv:2001.00550);
* ``"local"``: :math:`C = 1 - \frac1n \sum_i \langle (1 + Z_i)/2 \rangle` (Cerezo et al.);
* ``"zz"``: :math:`C = \langle Z_0 Z_1 \rangle`, McClean's two-local Pauli observable.

Initialisations:

* ``"uniform"``: :math:`\theta \sim U[0, 2\pi)`;
* ``"small"``: :math:`\theta \sim N(0, \sigma^2)`;
* ``"identity"``: identity blocks (E. Grant et al., Quantum 3, 214 (2019),
  arXiv:1903.05076): the ``n_layers`` layers form ``n_blocks`` blocks (``n_layers`` must be
  a multiple of ``2 n_blocks``); in each block the first half are ordinary layers with
  uniform angles and the second half are *inverse* layers (inverse entangler, then
  ``R_{a0}(-t0) R_{a1}(-t1)`` per wire) whose angles and axes are the first half's in
  reverse order, so every block, and the circuit, is the identity at initialisation. The
  circuit structure (``mirror=True``) thus differs from the plain one. For ``"hea"`` and
  ``"random"`` the global and local costs start at their minimum ``0`` with vanishing
  gradient; for ``"mcclean"`` the state starts at ``RY(pi/4)^n |0>``.

Dtypes: the simulation runs in ``float32``/``complex64`` by default (``dtype="float64"``
for ``complex128``), whatever ``jax_enable_x64`` says: variances of gradients need far less
than single precision, and single precision is twice as fast.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    TooLargeError,
    UnknownNameError,
    check_positive_int,
)

__all__ = [
    "COSTS",
    "DTYPES",
    "GATES",
    "INITS",
    "circuit_cost",
    "cost_values",
    "draw_circuit",
    "ensemble_bytes",
    "gradient_ensemble",
    "hea_axes",
    "n_rotations",
    "pennylane_qnode",
    "plateau_scan",
    "ring_pairs",
    "shot_ensemble",
    "trace_count",
    "variance_scan",
]

#: Cost names.
COSTS = ("global", "local", "zz")
#: Initialisation names.
INITS = ("uniform", "small", "identity")
#: Gate-set names.
GATES = ("hea", "random", "mcclean")
#: Simulation precisions.
DTYPES = ("float32", "float64")
#: Default memory allowed for one chunk of circuit draws (bytes).
MEMORY_LIMIT = 2**30

_TRACES = [0]  # times the ensemble functions were traced (a Python side effect for tests)


def trace_count() -> int:
    """How many times the jitted ensemble functions have been traced (compiled) so far."""
    return _TRACES[0]


def n_rotations(gates: str) -> int:
    """Rotations per wire and layer: 1 for ``"mcclean"``, 2 otherwise."""
    return 1 if gates == "mcclean" else 2


def ring_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """CNOT ``(control, target)`` pairs of one layer, as in ``HardwareEfficient``."""
    n = n_qubits
    return [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if n > 2 else [])


def ladder_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """CZ pairs of one McClean layer: ``(0,1), (1,2), ..., (n-2, n-1)``."""
    return [(i, i + 1) for i in range(n_qubits - 1)]


def _ring_permutation(n: int) -> np.ndarray:
    """Index array ``p`` with ``ring(psi) == psi[p]`` (flat state, wire 0 = MSB)."""
    idx = np.arange(2**n)
    perm = idx.copy()
    for c, t in ring_pairs(n):  # psi_k = psi_{k-1}[p_k]  =>  psi = psi_0[p_1[p_2[...]]]
        bit_c, bit_t = 1 << (n - 1 - c), 1 << (n - 1 - t)
        p = np.where(idx & bit_c, idx ^ bit_t, idx)
        perm = perm[p]
    return perm


def _ladder_signs(n: int) -> np.ndarray:
    """Diagonal of the CZ ladder, ``(2**n,)`` in {-1, +1}."""
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
    odd = np.zeros(2**n, dtype=np.int64)
    for a, b in ladder_pairs(n):
        odd += bits[:, a] & bits[:, b]
    return np.where(odd % 2, -1.0, 1.0)


def cost_values(n_qubits: int, cost: str) -> np.ndarray:
    r"""The diagonal ``f`` of the cost observable, ``(2**n,)`` float64: ``C = sum_k p_k f_k``.

    ``"global"``: ``1 - [k = 0]``; ``"local"``: ``1 - (number of 0 bits of k) / n``;
    ``"zz"``: ``z_0 z_1`` with ``z = +1`` for bit 0 (wires 0 and 1).
    """
    n = n_qubits
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
    if cost == "global":
        return np.where(np.arange(2**n) == 0, 0.0, 1.0)
    if cost == "local":
        return 1.0 - (n - bits.sum(axis=1)) / n
    return (1.0 - 2.0 * bits[:, 0]) * (1.0 - 2.0 * bits[:, 1])


def _check_name(kind: str, value, names: tuple) -> str:
    if value not in names:
        raise UnknownNameError(f"{kind}: expected one of {', '.join(names)}; got {value!r}")
    return value


def _check(n_qubits, n_layers, cost, init, gates, sigma=0.1, n_blocks=1, dtype="float32"):
    n = check_positive_int("n_qubits", n_qubits, minimum=1)
    layers = check_positive_int("n_layers", n_layers, minimum=1)
    blocks = check_positive_int("n_blocks", n_blocks, minimum=1)
    _check_name("cost", cost, COSTS)
    _check_name("init", init, INITS)
    _check_name("gates", gates, GATES)
    _check_name("dtype", dtype, DTYPES)
    if cost == "zz" and n < 2:
        raise InvalidParameterError(f"n_qubits: cost='zz' (Z0 Z1) needs at least 2; got {n}")
    if init == "identity" and layers % (2 * blocks):
        raise InvalidParameterError(
            f"n_layers: expected a multiple of 2 * n_blocks = {2 * blocks} for "
            f"init='identity' (each block is a half and its inverse); got {layers}"
        )
    if init == "small" and not (math.isfinite(float(sigma)) and float(sigma) > 0):
        raise InvalidParameterError(f"sigma: expected a finite number > 0; got {sigma!r}")
    return n, layers


def _dtypes(dtype: str = "float32"):
    if dtype == "float64" and not jax.config.jax_enable_x64:
        return jnp.float32, jnp.complex64  # x64 off: JAX cannot make 64-bit arrays
    return (jnp.float64, jnp.complex128) if dtype == "float64" else (jnp.float32, jnp.complex64)


_PAULIS = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])


def _rotations(axes, theta, cdtype):
    """``exp(-i theta P_axis / 2)`` as ``(..., 2, 2)`` matrices; ``axes`` in {0, 1, 2}."""
    paulis = jnp.asarray(_PAULIS, dtype=cdtype)[axes]
    c = jnp.cos(theta / 2).astype(cdtype)[..., None, None]
    s = jnp.sin(theta / 2).astype(cdtype)[..., None, None]
    eye = jnp.eye(2, dtype=cdtype).reshape((1,) * theta.ndim + (2, 2))
    return c * eye - 1j * s * paulis


def _apply_product(psi, u):
    """Apply ``u[0] (x) u[1] (x) ... (x) u[n-1]`` to the flat state ``psi``.

    ``psi``: ``(2**n,)``; ``u``: ``(n, 2, 2)``. Each scan step acts on the leading qubit and
    moves it to the end, so after ``n`` steps the qubit order is restored.
    """

    def step(psi, uw):
        p = psi.reshape(2, -1)
        new = jnp.stack([uw[0, 0] * p[0] + uw[0, 1] * p[1], uw[1, 0] * p[0] + uw[1, 1] * p[1]])
        return new.T.reshape(-1), None

    return jax.lax.scan(step, psi, u)[0]


def _initial_state(n: int, gates: str, cdtype):
    if gates != "mcclean":
        return jnp.zeros(2**n, dtype=cdtype).at[0].set(1)
    one = np.array([math.cos(math.pi / 8), math.sin(math.pi / 8)])  # RY(pi/4)|0>
    psi = np.ones(1)
    for _ in range(n):
        psi = np.kron(psi, one)
    return jnp.asarray(psi, dtype=cdtype)


def _final_state(theta, axes, *, n_qubits: int, gates: str, n_blocks: int, dtype: str):
    """Flat state ``(2**n,)`` after the circuit; ``n_blocks = 0`` for the plain circuit."""
    n = n_qubits
    fdtype, cdtype = _dtypes(dtype)
    if gates == "mcclean":
        signs = jnp.asarray(_ladder_signs(n), dtype=cdtype)
        ent, ent_inv = (lambda psi: psi * signs), (lambda psi: psi * signs)
    else:
        perm = jnp.asarray(_ring_permutation(n))
        inv_perm = jnp.asarray(np.argsort(_ring_permutation(n)))
        ent, ent_inv = (lambda psi: psi[perm]), (lambda psi: psi[inv_perm])

    @jax.checkpoint
    def forward(psi, layer):
        r = _rotations(layer[1], layer[0], cdtype)  # (n, r, 2, 2): wire, slot, matrix
        u = r[:, 0] if r.shape[1] == 1 else r[:, 1] @ r[:, 0]
        return ent(_apply_product(psi, u)), None

    @jax.checkpoint
    def inverse(psi, layer):
        r = _rotations(layer[1], -layer[0], cdtype)
        u = r[:, 0] if r.shape[1] == 1 else r[:, 0] @ r[:, 1]
        return _apply_product(ent_inv(psi), u), None

    theta = theta.astype(fdtype)
    psi = _initial_state(n, gates, cdtype)
    if not n_blocks:
        return jax.lax.scan(forward, psi, (theta, axes))[0]
    shape = (n_blocks, 2, theta.shape[0] // (2 * n_blocks)) + theta.shape[1:]

    def block(psi, b):
        t, a = b
        psi = jax.lax.scan(forward, psi, (t[0], a[0]))[0]
        return jax.lax.scan(inverse, psi, (t[1], a[1]))[0], None

    return jax.lax.scan(block, psi, (theta.reshape(shape), axes.reshape(shape)))[0]


def _probabilities(theta, axes, **circuit):
    psi = _final_state(theta, axes, **circuit)
    return jnp.real(psi * jnp.conj(psi))


def circuit_cost(
    theta,
    axes,
    *,
    n_qubits: int,
    cost: str,
    gates: str = "hea",
    mirror: bool = False,
    n_blocks: int = 1,
    dtype: str = "float32",
):
    """Cost ``C`` (scalar float) of the circuit with angles ``theta`` and gate ``axes``.

    Args:
        theta: ``(n_layers, n_qubits, r)`` float angles (``r`` = :func:`n_rotations`).
        axes: ``(n_layers, n_qubits, r)`` int in {0: X, 1: Y, 2: Z}; for the hardware-
            efficient circuit ``axes[..., 0] = 1`` (RY), ``axes[..., 1] = 2`` (RZ).
        n_qubits: number of qubits (static).
        cost: one of :data:`COSTS` (static).
        gates: circuit layout, one of :data:`GATES` (``"hea"`` and ``"random"`` share it).
        mirror: the layers form ``n_blocks`` blocks of a half and its inverse
            (``init="identity"``).
        dtype: simulation precision, one of :data:`DTYPES`.
    """
    f = jnp.asarray(cost_values(n_qubits, cost), dtype=_dtypes(dtype)[0])
    prob = _probabilities(
        theta,
        axes,
        n_qubits=n_qubits,
        gates=gates,
        n_blocks=n_blocks if mirror else 0,
        dtype=dtype,
    )
    return jnp.sum(prob * f)


def hea_axes(n_qubits: int, n_layers: int) -> np.ndarray:
    """Gate axes of the hardware-efficient circuit: RY (1) then RZ (2) everywhere."""
    axes = np.empty((n_layers, n_qubits, 2), dtype=np.int32)
    axes[..., 0], axes[..., 1] = 1, 2
    return axes


@functools.partial(
    jax.jit, static_argnames=("n_qubits", "n_layers", "init", "gates", "n_blocks", "dtype")
)
def draw_circuit(
    key, *, n_qubits, n_layers, init="uniform", sigma=0.1, gates="hea", n_blocks=1, dtype="float32"
):
    """One random circuit: ``(theta, axes)`` each of shape ``(n_layers, n_qubits, r)``."""
    fdtype, _ = _dtypes(dtype)
    k_theta, k_axes = jax.random.split(key)
    r = n_rotations(gates)
    shape = (n_layers, n_qubits, r)
    if init == "identity":  # n_blocks blocks, each a half and its mirror
        shape = (n_blocks, n_layers // (2 * n_blocks), n_qubits, r)
    if gates == "hea":
        axes = jnp.broadcast_to(jnp.asarray(hea_axes(n_qubits, 1)[0]), shape)
    else:
        axes = jax.random.randint(k_axes, shape, 0, 3, dtype=jnp.int32)
    if init == "uniform":
        theta = jax.random.uniform(k_theta, shape, fdtype, 0, 2 * jnp.pi)
    elif init == "small":
        theta = sigma * jax.random.normal(k_theta, shape, fdtype)
    else:
        first = jax.random.uniform(k_theta, shape, fdtype, 0, 2 * jnp.pi)
        full = (n_layers, n_qubits, r)
        theta = jnp.concatenate([first, first[:, ::-1]], axis=1).reshape(full)
        axes = jnp.concatenate([axes, axes[:, ::-1]], axis=1).reshape(full)
    return theta.astype(fdtype), axes.astype(jnp.int32)


def ensemble_bytes(n_qubits: int, n_layers: int, *, dtype: str = "float32", shots=None) -> int:
    """Estimated peak memory (bytes) of one circuit draw in :func:`gradient_ensemble`.

    The checkpointed layer scan keeps one state per layer; the backward pass holds a few
    more states and the per-layer rematerialisation ``~n`` temporaries of ``2**n``. With
    ``shots``, :func:`shot_ensemble` holds two probability vectors and their CDFs plus the
    ``2 * shots`` samples instead.
    """
    csize = 16 if dtype == "float64" else 8
    states = 2**n_qubits
    if shots:
        return int(csize * states * (n_layers + 8) + 16 * shots)
    return int(csize * states * (n_layers + 2 * n_qubits + 8) + 8 * n_layers * n_qubits)


def _chunk(n_qubits, n_layers, n_draws, memory_limit, dtype, shots=None) -> int:
    per_draw = ensemble_bytes(n_qubits, n_layers, dtype=dtype, shots=shots)
    if per_draw > memory_limit:
        raise TooLargeError(
            f"expected one circuit of n_qubits={n_qubits}, n_layers={n_layers} to fit in "
            f"memory_limit={memory_limit / 2**30:.3g} GiB; it needs about "
            f"{per_draw / 2**30:.3g} GiB: use fewer qubits or layers, or raise memory_limit"
        )
    return max(1, min(n_draws, memory_limit // per_draw))


@functools.partial(
    jax.jit,
    static_argnames=(
        "n_qubits",
        "n_layers",
        "n_draws",
        "cost",
        "init",
        "gates",
        "n_blocks",
        "dtype",
        "chunk",
    ),
)
def _ensemble(key, sigma, *, n_qubits, n_layers, n_draws, cost, init, gates, n_blocks, dtype, chunk):
    _TRACES[0] += 1  # runs at trace time only
    grad = jax.value_and_grad(
        functools.partial(
            circuit_cost,
            n_qubits=n_qubits,
            cost=cost,
            gates=gates,
            mirror=init == "identity",
            n_blocks=n_blocks,
            dtype=dtype,
        )
    )

    def one(k):
        theta, axes = draw_circuit(
            k,
            n_qubits=n_qubits,
            n_layers=n_layers,
            init=init,
            sigma=sigma,
            gates=gates,
            n_blocks=n_blocks,
            dtype=dtype,
        )
        c, g = grad(theta, axes)
        return c, g.reshape(-1)

    keys = jax.random.split(key, n_draws)
    if chunk >= n_draws:
        return jax.vmap(one)(keys)
    return jax.lax.map(one, keys, batch_size=chunk)


def gradient_ensemble(
    key,
    *,
    n_qubits: int,
    n_layers: int,
    n_draws: int,
    cost: str = "global",
    init: str = "uniform",
    sigma: float = 0.1,
    gates: str = "hea",
    n_blocks: int = 1,
    dtype: str = "float32",
    memory_limit: int = MEMORY_LIMIT,
    return_cost: bool = False,
):
    r"""Gradients :math:`\partial C/\partial\theta_k` of ``n_draws`` random circuits.

    One jitted call (compiled once per static configuration; a new ``key`` or ``sigma``
    does not recompile). Draws are processed in chunks whose estimated memory
    (:func:`ensemble_bytes`) stays below ``memory_limit``.

    Args:
        key: JAX PRNG key (keyword-only randomness, split here).
        n_qubits, n_layers: circuit size (``n_layers`` a multiple of ``2 n_blocks`` for
            ``init="identity"``).
        n_draws: ensemble size.
        cost: one of :data:`COSTS`; init: one of :data:`INITS`; gates: one of :data:`GATES`.
        sigma: standard deviation of ``init="small"`` (radians).
        n_blocks: identity blocks of ``init="identity"`` (Grant et al.).
        dtype: simulation precision, one of :data:`DTYPES`.
        memory_limit: bytes allowed for one chunk of draws.
        return_cost: also return the costs.

    Returns:
        ``(n_draws, n_layers * n_qubits * r)`` float gradients, parameter order
        ``(layer, wire, rotation)`` flattened (index 0 = first rotation on wire 0, layer 0);
        with ``return_cost``, ``(costs (n_draws,), gradients)``.

    Raises:
        TooLargeError: one circuit needs more than ``memory_limit`` bytes.
    """
    n, layers = _check(n_qubits, n_layers, cost, init, gates, sigma, n_blocks, dtype)
    draws = check_positive_int("n_draws", n_draws, minimum=1)
    chunk = _chunk(n, layers, draws, memory_limit, dtype)
    costs, grads = _ensemble(
        key,
        jnp.asarray(sigma, dtype=_dtypes(dtype)[0]),
        n_qubits=n,
        n_layers=layers,
        n_draws=draws,
        cost=cost,
        init=init,
        gates=gates,
        n_blocks=int(n_blocks),
        dtype=dtype,
        chunk=int(chunk),
    )
    return (costs, grads) if return_cost else grads
