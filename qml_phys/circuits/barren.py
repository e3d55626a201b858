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

Entry points: :func:`gradient_ensemble` (and :func:`shot_ensemble`) draw an ensemble of
an :class:`EnsembleConfig`'s circuits from a key; :func:`plateau_scan` runs them over qubit
counts with bootstrap intervals, decay fits and 2-design references (a
:class:`PlateauConfig` in, a :class:`PlateauScan` result out); :func:`plot_scan` draws a
scan on the axes it is given.

Dtypes: the simulation runs in ``float32``/``complex64`` by default (``dtype="float64"``
for ``complex128``), whatever ``jax_enable_x64`` says: variances of gradients need far less
than single precision, and single precision is twice as fast.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    TooLargeError,
    UnknownNameError,
    check_positive_int,
)
from qml_phys.runtime.results import Result

__all__ = [
    "COSTS",
    "DTYPES",
    "GATES",
    "INITS",
    "MEMORY_LIMIT",
    "EnsembleConfig",
    "PlateauConfig",
    "PlateauScan",
    "circuit_cost",
    "cost_values",
    "depth_for",
    "draw_circuit",
    "draw_circuits",
    "ensemble_bytes",
    "gradient_ensemble",
    "hea_axes",
    "ladder_pairs",
    "n_rotations",
    "pennylane_qnode",
    "plateau_scan",
    "plot_scan",
    "ring_pairs",
    "shot_ensemble",
    "two_design_variance",
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
#: Amplitudes per state vector summed over a chunk of draws: small chunks keep the working
#: set in the CPU cache (measured: n = 10, 12 run 1.4x faster than with one big batch).
_CACHE_AMPLITUDES = 2**13


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


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnsembleConfig:
    """A family of random circuits and the cost measured on them (see the module
    docstring): what :func:`gradient_ensemble` and :func:`shot_ensemble` draw from."""

    n_qubits: int
    """Number of qubits ``n`` (>= 1; >= 2 for ``cost="zz"``)."""
    n_layers: int
    """Circuit layers (a multiple of ``2 n_blocks`` for ``init="identity"``)."""
    cost: str = "global"
    """One of :data:`COSTS`."""
    init: str = "uniform"
    """One of :data:`INITS`."""
    sigma: float = 0.1
    """Standard deviation of ``init="small"`` (radians)."""
    gates: str = "hea"
    """One of :data:`GATES`."""
    n_blocks: int = 1
    """Identity blocks of ``init="identity"`` (Grant et al.)."""
    dtype: str = "float32"
    """Simulation precision, one of :data:`DTYPES`."""

    def __post_init__(self):
        n, layers = _check(
            self.n_qubits,
            self.n_layers,
            self.cost,
            self.init,
            self.gates,
            self.sigma,
            self.n_blocks,
            self.dtype,
        )
        object.__setattr__(self, "n_qubits", n)
        object.__setattr__(self, "n_layers", layers)
        sigma = self.sigma
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.floating)):
            raise InvalidParameterError(f"sigma: expected a finite number > 0; got {sigma!r}")
        if not (math.isfinite(float(sigma)) and float(sigma) > 0):
            raise InvalidParameterError(f"sigma: expected a finite number > 0; got {sigma!r}")
        object.__setattr__(self, "n_blocks", int(self.n_blocks))
        object.__setattr__(self, "sigma", float(sigma))

    @property
    def n_params(self) -> int:
        """Parameters per circuit, ``n_layers * n_qubits * r``."""
        return self.n_layers * self.n_qubits * n_rotations(self.gates)

    @property
    def mirror(self) -> bool:
        """The layers form blocks of a half and its inverse (``init="identity"``)."""
        return self.init == "identity"

    def _static(self) -> dict:
        """The static arguments of the jitted kernels."""
        return dict(
            n_qubits=self.n_qubits,
            n_layers=self.n_layers,
            cost=self.cost,
            init=self.init,
            gates=self.gates,
            n_blocks=self.n_blocks,
            dtype=self.dtype,
        )


_PAULIS = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])


def _rotations(axes, theta, cdtype):
    """``exp(-i theta P_axis / 2)`` as ``(..., 2, 2)`` matrices; ``axes`` in {0, 1, 2}."""
    paulis = jnp.asarray(_PAULIS, dtype=cdtype)[axes]
    c = jnp.cos(theta / 2).astype(cdtype)[..., None, None]
    s = jnp.sin(theta / 2).astype(cdtype)[..., None, None]
    eye = jnp.eye(2, dtype=cdtype).reshape((1,) * theta.ndim + (2, 2))
    return c * eye - 1j * s * paulis


def _mat2(u, x0, x1):
    """``u @ (x0, x1)`` for a ``2 x 2`` matrix acting on one qubit's two halves."""
    return u[0, 0] * x0 + u[0, 1] * x1, u[1, 0] * x0 + u[1, 1] * x1


def _apply_product(psi, u):
    """Apply ``u[0] (x) u[1] (x) ... (x) u[n-1]`` to the flat state ``psi``.

    ``psi``: ``(2**n,)``; ``u``: ``(n, 2, 2)``. Each scan step acts on the leading qubit and
    moves it to the end, so after ``n`` steps the qubit order is restored.
    """

    def step(psi, uw):
        p = psi.reshape(2, -1)
        new0, new1 = _mat2(uw, p[0], p[1])
        return jnp.stack([new0, new1], axis=-1).reshape(-1), None

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
    ent, ent_inv = _entanglers(n, gates, cdtype)

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


def _entanglers(n: int, gates: str, cdtype):
    """``(E, E^dagger)`` of one layer as functions of the flat state."""
    if gates == "mcclean":
        signs = jnp.asarray(_ladder_signs(n), dtype=cdtype)
        return (lambda psi: psi * signs), (lambda psi: psi * signs)
    perm = jnp.asarray(_ring_permutation(n))
    inv_perm = jnp.asarray(np.argsort(_ring_permutation(n)))
    return (lambda psi: psi[perm]), (lambda psi: psi[inv_perm])


def _adjoint_product(phi, lam, mats, paulis, sign):
    r"""Backward pass through one layer of single-qubit gates (adjoint method).

    ``mats``: ``(n, g, 2, 2)`` the gates of each wire in application order; ``paulis``:
    their generators. Going back through the gates, the derivative of
    :math:`C = \langle\psi|F|\psi\rangle` with respect to the angle of a gate
    :math:`e^{-i\,\mathrm{sign}\,t P/2}` is :math:`\mathrm{sign}\,\mathrm{Im}\langle
    \lambda|P|\phi\rangle` with :math:`\phi` the state right after the gate and
    :math:`\lambda = U_\mathrm{after}^\dagger F \psi`; then both are un-applied
    (T. Jones and J. Gacon, arXiv:2009.02823). Wires are visited last to first; each step
    works on the trailing qubit and moves it to the front. Returns ``(phi, lam, grads (n, g))``
    with the gradients in application order.
    """

    def step(carry, x):
        p, l = carry[0].reshape(-1, 2), carry[1].reshape(-1, 2)
        mw, pw = x
        # transition matrix of the trailing qubit, t[b, a] = sum_rest phi_b conj(lam_a); going
        # back through gate j turns it into m_j^dagger t m_j, and <lam|P|phi> = Tr(P t)
        t = p.T @ jnp.conj(l)
        grads, undo = [], None
        for j in reversed(range(mw.shape[0])):
            grads.append(sign * jnp.imag(jnp.sum(pw[j] * t.T)))
            back = jnp.conj(mw[j]).T
            t = back @ t @ mw[j]
            undo = back if undo is None else back @ undo
        p0, p1 = _mat2(undo, p[:, 0], p[:, 1])
        l0, l1 = _mat2(undo, l[:, 0], l[:, 1])
        return (jnp.stack([p0, p1]).reshape(-1), jnp.stack([l0, l1]).reshape(-1)), jnp.stack(
            grads[::-1]
        )

    (phi, lam), g = jax.lax.scan(step, (phi, lam), (mats[::-1], paulis[::-1]))
    return phi, lam, g[::-1]


def _cost_and_grad(theta, axes, *, n_qubits, cost, gates, n_blocks, dtype):
    """Cost and its gradient ``(n_layers, n_qubits, r)`` by the adjoint method.

    Memory ``O(2**n)``: the backward pass un-computes the states instead of storing them.
    Agrees with ``jax.grad(circuit_cost)`` (tested); ``n_blocks = 0`` for the plain circuit.
    """
    n = n_qubits
    fdtype, cdtype = _dtypes(dtype)
    theta = theta.astype(fdtype)
    f = jnp.asarray(cost_values(n, cost), dtype=fdtype)
    ent, ent_inv = _entanglers(n, gates, cdtype)
    paulis_all = jnp.asarray(_PAULIS, dtype=cdtype)
    psi = _final_state(theta, axes, n_qubits=n, gates=gates, n_blocks=n_blocks, dtype=dtype)
    c = jnp.sum(jnp.real(psi * jnp.conj(psi)) * f)
    lam = psi * f.astype(cdtype)

    def back_forward(carry, layer):  # layer: 1q gates (slots 0..r-1) then E
        t, a = layer
        phi, lam = ent_inv(carry[0]), ent_inv(carry[1])
        phi, lam, g = _adjoint_product(phi, lam, _rotations(a, t, cdtype), paulis_all[a], 1.0)
        return (phi, lam), g

    def back_inverse(carry, layer):  # layer: E^dagger then gates (slots r-1..0, angles -t)
        t, a = layer
        a_rev, t_rev = a[:, ::-1], t[:, ::-1]
        mats = _rotations(a_rev, -t_rev, cdtype)
        phi, lam, g = _adjoint_product(carry[0], carry[1], mats, paulis_all[a_rev], -1.0)
        return (ent(phi), ent(lam)), g[:, ::-1]

    if not n_blocks:
        _, g = jax.lax.scan(back_forward, (psi, lam), (theta, axes), reverse=True)
        return c, g
    shape = (n_blocks, 2, theta.shape[0] // (2 * n_blocks)) + theta.shape[1:]

    def back_block(carry, b):
        t, a = b
        carry, g_inv = jax.lax.scan(back_inverse, carry, (t[1], a[1]), reverse=True)
        carry, g_fwd = jax.lax.scan(back_forward, carry, (t[0], a[0]), reverse=True)
        return carry, jnp.stack([g_fwd, g_inv])

    _, g = jax.lax.scan(
        back_block, (psi, lam), (theta.reshape(shape), axes.reshape(shape)), reverse=True
    )
    return c, g.reshape(theta.shape)


def _probabilities(theta, axes, **circuit):
    psi = _final_state(theta, axes, **circuit)
    return jnp.real(psi * jnp.conj(psi))


def circuit_cost(theta, axes, config: EnsembleConfig):
    """Cost ``C`` (scalar float) of the circuit of ``config`` with angles ``theta`` and gate
    ``axes`` (differentiable with ``jax.grad``).

    Args:
        theta: ``(n_layers, n_qubits, r)`` float angles (``r`` = :func:`n_rotations`).
        axes: ``(n_layers, n_qubits, r)`` int in {0: X, 1: Y, 2: Z}; for the hardware-
            efficient circuit ``axes[..., 0] = 1`` (RY), ``axes[..., 1] = 2`` (RZ).
        config: the circuit layout, cost and precision; with ``init="identity"`` the layers
            form ``n_blocks`` blocks of a half and its inverse.
    """
    f = jnp.asarray(cost_values(config.n_qubits, config.cost), dtype=_dtypes(config.dtype)[0])
    prob = _probabilities(
        theta,
        axes,
        n_qubits=config.n_qubits,
        gates=config.gates,
        n_blocks=config.n_blocks if config.mirror else 0,
        dtype=config.dtype,
    )
    return jnp.sum(prob * f)


def hea_axes(n_qubits: int, n_layers: int) -> np.ndarray:
    """Gate axes of the hardware-efficient circuit: RY (1) then RZ (2) everywhere."""
    axes = np.empty((n_layers, n_qubits, 2), dtype=np.int32)
    axes[..., 0], axes[..., 1] = 1, 2
    return axes


def _rbg_key(key):
    """An XLA ``RngBitGenerator`` key seeded from ``key`` (any JAX key).

    Threefry (JAX's default) takes ~0.8 s to compile on CPU for every new shape, more than
    a whole ensemble at small ``n``; ``rbg`` compiles in ~0.1 s. The bits are a function of
    ``key`` (reproducible on a given backend; CPU and GPU may differ).
    """
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    words = jnp.tile(key.reshape(-1).astype(jnp.uint32), 4)[:4]
    salt = jnp.asarray([0, 0x9E3779B9, 0x85EBCA6B, 0xC2B2AE35], dtype=jnp.uint32)
    return jax.random.wrap_key_data(words ^ salt, impl="rbg")


@functools.partial(
    jax.jit,
    static_argnames=("n_draws", "n_qubits", "n_layers", "init", "gates", "n_blocks", "dtype"),
)
def _draw(key, *, n_draws, n_qubits, n_layers, init, sigma, gates, n_blocks, dtype):
    """The random circuits of :func:`draw_circuits` (``sigma`` traced, the rest static)."""
    fdtype, _ = _dtypes(dtype)
    k_theta, k_axes = jax.random.split(_rbg_key(key))
    r = n_rotations(gates)
    shape = (n_draws, n_layers, n_qubits, r)
    if init == "identity":  # n_blocks blocks, each a half and its mirror
        shape = (n_draws, n_blocks, n_layers // (2 * n_blocks), n_qubits, r)
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
        full = (n_draws, n_layers, n_qubits, r)
        theta = jnp.concatenate([first, first[:, :, ::-1]], axis=2).reshape(full)
        axes = jnp.concatenate([axes, axes[:, :, ::-1]], axis=2).reshape(full)
    return theta.astype(fdtype), axes.astype(jnp.int32)


def _sigma(config: EnsembleConfig):
    return jnp.asarray(config.sigma, dtype=_dtypes(config.dtype)[0])


def draw_circuits(config: EnsembleConfig, *, key, n_draws: int):
    """``n_draws`` random circuits of ``config``: ``(theta, axes)``, each
    ``(n_draws, n_layers, n_qubits, r)`` (float angles in radians, int axes in {0, 1, 2}).

    The circuits :func:`gradient_ensemble` draws with the same key and configuration.
    """
    n_draws = check_positive_int("n_draws", n_draws, minimum=1)
    static = config._static()
    del static["cost"]
    return _draw(key, n_draws=n_draws, sigma=_sigma(config), **static)


def draw_circuit(config: EnsembleConfig, *, key):
    """One random circuit of ``config``: ``(theta, axes)``, each ``(n_layers, n_qubits, r)``."""
    theta, axes = draw_circuits(config, key=key, n_draws=1)
    return theta[0], axes[0]


def ensemble_bytes(n_qubits: int, n_layers: int, *, dtype: str = "float32", shots=None) -> int:
    """Estimated peak memory (bytes) of one circuit draw in :func:`gradient_ensemble`.

    The adjoint-method gradient holds the state, the back-propagated co-state and a few
    temporaries of ``2**n`` amplitudes, whatever the depth. With ``shots``,
    :func:`shot_ensemble` differentiates through the probabilities of two shifted circuits
    instead (a checkpointed scan keeps one state per layer) and holds ``2 * shots`` samples.
    """
    csize = 16 if dtype == "float64" else 8
    states = 2**n_qubits
    if shots:
        return int(csize * states * 2 * 12 + 16 * shots)
    return int(csize * states * 12 + 8 * n_layers * n_qubits * 2)


def _chunk(n_qubits, n_layers, n_draws, memory_limit, dtype, shots=None) -> int:
    per_draw = ensemble_bytes(n_qubits, n_layers, dtype=dtype, shots=shots)
    if per_draw > memory_limit:
        raise TooLargeError(
            f"expected one circuit of n_qubits={n_qubits}, n_layers={n_layers} to fit in "
            f"memory_limit={memory_limit / 2**30:.3g} GiB; it needs about "
            f"{per_draw / 2**30:.3g} GiB: use fewer qubits or layers, or raise memory_limit"
        )
    cache = max(1, _CACHE_AMPLITUDES // 2**n_qubits)  # keep a chunk's states in cache
    return max(1, min(n_draws, memory_limit // per_draw, cache))


def _map_padded(f, xs, n: int, chunk: int):
    """``lax.map(f, xs, batch_size=chunk)`` without a remainder batch.

    ``lax.map`` compiles the body twice when ``chunk`` does not divide ``n`` (the scanned
    batches and the remainder); instead the draws are split into equal batches, padded with
    copies of the last draw, and the padding is dropped from the result. The draws
    themselves are unchanged.
    """
    n_batches = -(-n // chunk)
    size = -(-n // n_batches)
    pad = n_batches * size - n
    if pad:
        xs = jax.tree.map(lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]), xs)
    out = jax.lax.map(
        jax.vmap(f), jax.tree.map(lambda x: x.reshape((n_batches, size) + x.shape[1:]), xs)
    )
    return jax.tree.map(lambda y: y.reshape((n_batches * size,) + y.shape[2:])[:n], out)


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
def _ensemble(
    key, sigma, *, n_qubits, n_layers, n_draws, cost, init, gates, n_blocks, dtype, chunk
):
    grad = functools.partial(
        _cost_and_grad,
        n_qubits=n_qubits,
        cost=cost,
        gates=gates,
        n_blocks=n_blocks if init == "identity" else 0,
        dtype=dtype,
    )

    theta, axes = _draw(
        key,
        n_draws=n_draws,
        n_qubits=n_qubits,
        n_layers=n_layers,
        init=init,
        sigma=sigma,
        gates=gates,
        n_blocks=n_blocks,
        dtype=dtype,
    )

    def one(circuit):
        c, g = grad(*circuit)
        return c, g.reshape(-1)

    if chunk >= n_draws:
        return jax.vmap(one)((theta, axes))
    return _map_padded(one, (theta, axes), n_draws, chunk)


def gradient_ensemble(
    config: EnsembleConfig,
    *,
    key,
    n_draws: int,
    memory_limit: int = MEMORY_LIMIT,
    return_cost: bool = False,
):
    r"""Gradients :math:`\partial C/\partial\theta_k` of ``n_draws`` random circuits.

    One jitted call (compiled once per static configuration; a new ``key`` or ``sigma``
    does not recompile). Draws are processed in chunks whose estimated memory
    (:func:`ensemble_bytes`) stays below ``memory_limit``.

    Args:
        config: the circuit family (:class:`EnsembleConfig`).
        key: JAX PRNG key of the draws (:func:`draw_circuits` draws the same circuits).
        n_draws: ensemble size.
        memory_limit: bytes allowed for one chunk of draws.
        return_cost: also return the costs.

    Returns:
        ``(n_draws, n_layers * n_qubits * r)`` float gradients, parameter order
        ``(layer, wire, rotation)`` flattened (index 0 = first rotation on wire 0, layer 0);
        with ``return_cost``, ``(costs (n_draws,), gradients)``. JAX arrays, computed
        asynchronously.

    Raises:
        TooLargeError: one circuit needs more than ``memory_limit`` bytes.
    """
    draws = check_positive_int("n_draws", n_draws, minimum=1)
    chunk = _chunk(config.n_qubits, config.n_layers, draws, memory_limit, config.dtype)
    costs, grads = _ensemble(
        key, _sigma(config), n_draws=draws, chunk=int(chunk), **config._static()
    )
    return (costs, grads) if return_cost else grads


@functools.partial(
    jax.jit,
    static_argnames=(
        "n_qubits",
        "n_layers",
        "n_draws",
        "shots",
        "param",
        "cost",
        "init",
        "gates",
        "n_blocks",
        "dtype",
        "chunk",
    ),
)
def _shot_ensemble(
    key,
    sigma,
    *,
    n_qubits,
    n_layers,
    n_draws,
    shots,
    param,
    cost,
    init,
    gates,
    n_blocks,
    dtype,
    chunk,
):
    fdtype, _ = _dtypes(dtype)
    f = jnp.asarray(cost_values(n_qubits, cost), dtype=fdtype)
    circuit = dict(
        n_qubits=n_qubits, gates=gates, n_blocks=n_blocks if init == "identity" else 0, dtype=dtype
    )
    half_pi = jnp.asarray(jnp.pi / 2, dtype=fdtype)

    theta_all, axes_all = _draw(
        key,
        n_draws=n_draws,
        n_qubits=n_qubits,
        n_layers=n_layers,
        init=init,
        sigma=sigma,
        gates=gates,
        n_blocks=n_blocks,
        dtype=dtype,
    )
    k_shots = jax.random.split(_rbg_key(key), 3)[2]  # not one of draw_circuits' two keys
    u_all = jax.random.uniform(k_shots, (n_draws, 2, shots), fdtype)

    def one(x):
        theta, axes, u = x
        flat = theta.reshape(-1)
        shifted = jnp.stack([flat.at[param].add(half_pi), flat.at[param].add(-half_pi)])
        probs = jax.vmap(lambda t: _probabilities(t.reshape(theta.shape), axes, **circuit))(shifted)
        probs = probs / jnp.sum(probs, axis=1, keepdims=True)
        c = probs @ f  # (2,) exact C(theta +- pi/2)
        v = jnp.sum(probs * (f[None, :] - c[:, None]) ** 2, axis=1)  # one-shot variances
        cdf = jnp.cumsum(probs, axis=1)
        idx = jax.vmap(jnp.searchsorted)(cdf, u * cdf[:, -1:])
        vals = f[jnp.minimum(idx, f.shape[0] - 1)]  # (2, shots) one-shot outcomes
        c_hat = jnp.mean(vals, axis=1)
        s2 = jnp.var(vals, axis=1, ddof=1)
        s = jnp.asarray(shots, dtype=fdtype)
        return (
            (c[0] - c[1]) / 2,
            (v[0] + v[1]) / (4 * s),
            (c_hat[0] - c_hat[1]) / 2,
            (s2[0] + s2[1]) / (4 * s),
        )

    xs = (theta_all, axes_all, u_all)
    if chunk >= n_draws:
        return jax.vmap(one)(xs)
    return jax.lax.map(one, xs, batch_size=chunk)


def shot_ensemble(
    config: EnsembleConfig,
    *,
    key,
    n_draws: int,
    shots: int,
    param: int = 0,
    memory_limit: int = MEMORY_LIMIT,
) -> dict:
    r"""Parameter-shift gradients of one parameter with a finite number of shots.

    For each random circuit (the same draws as :func:`gradient_ensemble` with the same key:
    common random numbers, so the two can be compared draw by draw) the derivative
    :math:`g = [C(\theta_k + \pi/2) - C(\theta_k - \pi/2)]/2` is estimated from ``shots``
    measurements of the cost observable per shift term (inverse-CDF sampling of the
    computational-basis distribution with uniforms from a third key derived from ``key``).
    Because the costs are diagonal, the variance of one shot is exact:
    :math:`v_\pm = \sum_k p_k (f_k - C_\pm)^2` (``p(1-p)`` for the global projector), and
    the estimator has variance :math:`(v_+ + v_-)/(4S)`.

    Args:
        config: the circuit family (:class:`EnsembleConfig`).
        key: JAX PRNG key of the draws and of the shots.
        n_draws: ensemble size.
        shots: measurements per shift term (>= 2).
        param: index of the parameter in the flattened ``(layer, wire, rotation)`` order.
        memory_limit: bytes allowed for one chunk of draws.

    Returns:
        numpy float64 arrays of shape ``(n_draws,)``: ``"grad"`` (exact parameter-shift
        derivative), ``"shot_variance"`` (exact variance of the shot estimator),
        ``"grad_shots"`` (the simulated shot estimate) and ``"shot_variance_estimate"``
        (the same variance estimated from the shots, as on hardware); plus ``"shots"``
        and ``"param"``.
    """
    draws = check_positive_int("n_draws", n_draws, minimum=1)
    shots = check_positive_int("shots", shots, minimum=2)
    n_params = config.n_params
    if not (isinstance(param, (int, np.integer)) and 0 <= param < n_params):
        raise InvalidParameterError(f"param: expected an index in [0, {n_params}); got {param!r}")
    chunk = _chunk(config.n_qubits, config.n_layers, draws, memory_limit, config.dtype, shots)
    out = _shot_ensemble(
        key,
        _sigma(config),
        n_draws=draws,
        shots=shots,
        param=int(param),
        chunk=int(chunk),
        **config._static(),
    )
    names = ("grad", "shot_variance", "grad_shots", "shot_variance_estimate")
    res = {k: np.asarray(v, dtype=np.float64) for k, v in zip(names, out, strict=True)}
    return res | {"shots": shots, "param": int(param)}


def depth_for(n_qubits: int, layers) -> int:
    """Circuit depth for ``n_qubits``: an integer, ``"n"`` (depth = n) or ``"log"``
    (``max(1, ceil(log2 n))``, Cerezo's shallow regime)."""
    if layers == "n":
        return int(n_qubits)
    if layers == "log":
        return max(1, math.ceil(math.log2(n_qubits)))
    return check_positive_int("n_layers", layers)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlateauConfig:
    """Settings of :func:`plateau_scan` (and of :func:`variance_scan`, which uses the circuit
    family and ``n_draws`` only)."""

    layers: int | str = 50
    """Circuit depth for each ``n``: an integer, ``"n"`` (depth = n) or ``"log"``
    (``ceil(log2 n)``; see :func:`depth_for`)."""
    n_draws: int = 200
    """Random circuits per qubit count (>= 2)."""
    cost: str = "global"
    """One of :data:`COSTS`."""
    init: str = "uniform"
    """One of :data:`INITS`."""
    sigma: float = 0.1
    """Standard deviation of ``init="small"`` (radians)."""
    gates: str = "hea"
    """One of :data:`GATES`."""
    n_blocks: int = 1
    """Identity blocks of ``init="identity"``."""
    dtype: str = "float32"
    """Simulation precision, one of :data:`DTYPES`."""
    shots: int | None = None
    """Also estimate the first parameter's derivative from this many shots per shift term
    (:func:`shot_ensemble`), or ``None``."""
    n_boot: int = 1000
    """Bootstrap replicas of every interval (>= 2). With 1000 the Monte Carlo error of a
    95% percentile end is ~0.08 standard deviations of the replicas (about 2% of the
    interval's width); the replicas cost tens of milliseconds per qubit count (one matrix
    product over the draws), so fewer would save nothing."""
    level: float = 0.95
    """Coverage of the bootstrap intervals and of the decay-rate intervals."""
    memory_limit: int = MEMORY_LIMIT
    """Bytes allowed for one chunk of circuit draws."""

    def __post_init__(self):
        if self.layers not in ("n", "log"):
            object.__setattr__(self, "layers", check_positive_int("layers", self.layers))
        object.__setattr__(self, "n_draws", check_positive_int("n_draws", self.n_draws, 2))
        object.__setattr__(self, "n_boot", check_positive_int("n_boot", self.n_boot, 2))
        object.__setattr__(self, "n_blocks", check_positive_int("n_blocks", self.n_blocks))
        object.__setattr__(
            self, "memory_limit", check_positive_int("memory_limit", self.memory_limit)
        )
        if self.shots is not None:
            object.__setattr__(self, "shots", check_positive_int("shots", self.shots, 2))
        from qml_phys.stats.bootstrap import check_level  # scipy.stats: only for scans

        object.__setattr__(self, "level", check_level(self.level))
        for kind, names in (("cost", COSTS), ("init", INITS), ("gates", GATES)):
            _check_name(kind, getattr(self, kind), names)
        _check_name("dtype", self.dtype, DTYPES)

    def ensemble(self, n_qubits: int, n_layers: int | None = None) -> EnsembleConfig:
        """The circuit family at ``n_qubits`` (depth :func:`depth_for`, or ``n_layers``)."""
        return EnsembleConfig(
            n_qubits=n_qubits,
            n_layers=depth_for(n_qubits, self.layers) if n_layers is None else n_layers,
            cost=self.cost,
            init=self.init,
            sigma=self.sigma,
            gates=self.gates,
            n_blocks=self.n_blocks,
            dtype=self.dtype,
        )


def variance_scan(ns, depths=None, config: PlateauConfig | None = None, *, key) -> dict:
    """Gradient variances on the grid ``ns x depths`` (no intervals: see :func:`plateau_scan`).

    Args:
        ns: qubit counts.
        depths: layer counts; ``None`` means depth ``= n`` (one column).
        config: the circuit family and ``n_draws`` (its ``layers``, ``shots`` and bootstrap
            settings are not used); ``None``: ``PlateauConfig()``.
        key: JAX PRNG key; grid point ``(i, j)`` uses ``fold_in(key, i * len(depths) + j)``.

    Returns:
        ``{"ns", "depths", "var_first", "var_mean", "config"}``: ``var_first`` the variance
        of the first parameter's derivative (as McClean et al.) and ``var_mean`` the
        variance averaged over all parameters, both ``(len(ns), len(depths))`` float64
        numpy arrays (with ``depths=None``, one column with depth ``n`` per row).
    """
    config = PlateauConfig() if config is None else config
    ns = [check_positive_int("n_qubits", n) for n in ns]
    cols = [None] if depths is None else [check_positive_int("n_layers", d) for d in depths]
    var_first = np.zeros((len(ns), len(cols)))
    var_mean = np.zeros((len(ns), len(cols)))
    for i, n in enumerate(ns):
        for j, d in enumerate(cols):
            ensemble = config.ensemble(n, n if d is None else d)
            grads = gradient_ensemble(
                ensemble,
                key=jax.random.fold_in(key, i * len(cols) + j),
                n_draws=config.n_draws,
                memory_limit=config.memory_limit,
            )
            g = np.asarray(grads, dtype=np.float64)
            var = g.var(axis=0, ddof=1)
            var_first[i, j], var_mean[i, j] = var[0], var.mean()
    return {
        "ns": list(ns),
        "depths": None if depths is None else list(cols),
        "var_first": var_first,
        "var_mean": var_mean,
        "config": dataclasses.asdict(config),
    }


def _interval(est: dict) -> dict:
    return {"value": est["value"], "low": est["low"], "high": est["high"]}


def _ratio(value: float, reference: float | None) -> float | None:
    """``value / reference``, None without a (positive) reference."""
    return None if reference is None or not reference > 0 else float(value) / reference


def _above(est: dict, reference: float | None) -> bool | None:
    """The ``level`` interval of ``est`` lies above ``reference`` (None without one)."""
    return None if reference is None else bool(est["low"] > reference)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlateauScan(Result):
    """Result of :func:`plateau_scan` (``config``: its :class:`PlateauConfig`).

    ``history`` holds one entry per qubit count: ``"n"``, ``"layers"``, ``"var_mean"``
    and ``"var_first"`` (the variances, float64).
    """

    ns: list
    """Qubit counts."""
    layers: list
    """Circuit depth used at each ``n``."""
    rows: list
    """One dict per ``n``: ``n``, ``layers``, ``n_params``, ``var_first`` and ``var_mean``
    (bootstrap :class:`~qml_phys.stats.bootstrap.VarianceEstimate` as dicts),
    ``two_design_mean``, ``two_design_first`` and, with shots, ``shots``."""
    fit: dict
    """``{"mean": ..., "first": ...}``: the exponential fit of ``ln Var`` against ``n``
    (``"exponential"``, a :class:`~qml_phys.stats.fits.DecayFit` as a dict) and, from 3
    sizes on, the comparison with polynomial decay (``"comparison"``); ``None`` where the
    variances cannot be fitted (e.g. every gradient 0)."""
    two_design_rate: float | None
    """Decay rate per qubit of the 2-design variance over the same ``ns``."""

    def summary(self) -> dict:
        """The numbers a reader wants: per ``n`` the variances with their intervals and the
        2-design value, the fitted rates with intervals and the model comparison."""
        rows = []
        for r in self.rows:
            row = {
                "n": r["n"],
                "layers": r["layers"],
                "var_mean": _interval(r["var_mean"]),
                "var_first": _interval(r["var_first"]),
                "two_design_mean": r["two_design_mean"],
                "two_design_ratio": _ratio(r["var_mean"]["value"], r["two_design_mean"]),
                "above_two_design": _above(r["var_mean"], r["two_design_mean"]),
            }
            if "shots" in r:
                s = r["shots"]
                row["shots"] = {
                    "observed_var_first": _interval(s["observed"]),
                    "mean_shot_variance": s["mean_shot_variance"],
                    "corrected_var_first": _interval(s["corrected"]),
                    "corrected_var_first_from_samples": _interval(s["corrected_from_samples"]),
                }
            rows.append(row)
        fits = {}
        for which, fit in self.fit.items():
            if fit is None:
                fits[which] = None
                continue
            e = fit["exponential"]
            fits[which] = {
                "rate_per_qubit": e["rate"],
                "low": e["low"],
                "high": e["high"],
                "level": e["level"],
                "chi2": e["chi2"],
                "dof": e["dof"],
            }
            if "comparison" in fit:
                c = fit["comparison"]
                fits[which] |= {
                    "polynomial_power": c["polynomial"]["rate"],
                    "p_value_exponential": c["exponential"]["p_value"],
                    "p_value_polynomial": c["polynomial"]["p_value"],
                    "delta_aic": c["delta_aic"],
                    "preferred": c["preferred"],
                    "exponential_rejected": c["exponential_rejected"],
                    "polynomial_rejected": c["polynomial_rejected"],
                }
        above = [row["n"] for row in rows if row["above_two_design"]]
        return super().summary() | {
            "rows": rows,
            "fit": fits,
            "two_design_rate": self.two_design_rate,
            # where the interval of the variance lies above the 2-design value, the
            # ensemble is not (yet) a 2-design: a comparison with that theory cannot hold
            "not_two_design_at": above,
        }

    def as_dict(self) -> dict:
        """Everything, JSON-able (for a record): ``ns, layers, rows, fit, two_design_rate,
        config``, with every bootstrap and fit detail."""
        return {
            "ns": list(self.ns),
            "layers": list(self.layers),
            "rows": self.rows,
            "fit": self.fit,
            "two_design_rate": self.two_design_rate,
            "config": dataclasses.asdict(self.config),
        }


def _fits(ns, rows, level) -> dict:
    from qml_phys.stats.fits import compare_decay, fit_decay

    fit = {}
    for which in ("mean", "first"):
        v = np.array([r[f"var_{which}"]["value"] for r in rows])
        s = np.array([r[f"var_{which}"]["log_stderr"] for r in rows])
        if len(ns) < 2 or np.any(v <= 0) or not np.all(np.isfinite(s)) or np.any(s <= 0):
            fit[which] = None  # e.g. identity start: every gradient is 0
            continue
        entry = {"exponential": fit_decay(ns, v, s, level=level)._asdict()}
        if len(ns) >= 3:
            cmp = compare_decay(ns, v, s)
            entry["comparison"] = {
                k: (val._asdict() if hasattr(val, "_asdict") else val) for k, val in cmp.items()
            }
        fit[which] = entry
    return fit


def _shot_row(config: PlateauConfig, ensemble: EnsembleConfig, k_grad, k_boot) -> dict:
    from qml_phys.stats.bootstrap import shot_corrected_variance

    s = shot_ensemble(
        ensemble,
        key=k_grad,
        n_draws=config.n_draws,
        shots=config.shots,
        memory_limit=config.memory_limit,
    )
    boot = {"key": k_boot, "n_boot": config.n_boot, "level": config.level}
    split = shot_corrected_variance(s["grad_shots"], s["shot_variance"], **boot)
    est = shot_corrected_variance(s["grad_shots"], s["shot_variance_estimate"], **boot)
    return {
        "shots": config.shots,
        "observed": split["observed"]._asdict(),
        "mean_shot_variance": split["shot_variance"],
        "corrected": split["corrected"]._asdict(),
        "mean_shot_variance_from_samples": est["shot_variance"],
        "corrected_from_samples": est["corrected"]._asdict(),
    }


def plateau_scan(
    ns, config: PlateauConfig | None = None, *, key, progress: bool | None = None
) -> PlateauScan:
    r"""Gradient variance against qubit number, with intervals, fits and references.

    For each ``n`` in ``ns`` draws ``config.n_draws`` random circuits of depth
    :func:`depth_for` ``(n, config.layers)`` and reports the variance of the first
    parameter's derivative and the variance averaged over parameters, each with a bootstrap
    interval (:func:`~qml_phys.stats.bootstrap.bootstrap_variance`), and the 2-design value
    (:func:`two_design_variance`). Then it fits the decay rate of :math:`\ln\mathrm{Var}`
    per qubit (weighted by the bootstrap errors, with a ``level`` interval) and compares
    exponential against polynomial decay (:func:`~qml_phys.stats.fits.compare_decay`;
    needs 3 or more sizes). With ``config.shots``, the first parameter is also estimated
    from ``shots`` measurements per shift term (:func:`shot_ensemble`), and the observed
    variance is split into landscape variance and mean shot variance.

    Randomness: ``key`` is split into one ``(k_grad, k_boot)`` pair per ``n``. Common
    random numbers on purpose: the shot estimates use the circuits of the exact gradients
    (``k_grad``), and every interval of one ``n`` uses the same bootstrap replicas
    (``k_boot``).

    While the gradients of one ``n`` are computed (asynchronously), the ensemble of the
    next ``n`` is compiled: at most two ensembles are in flight.

    Args:
        ns: qubit counts.
        config: :class:`PlateauConfig` (``None``: the defaults).
        key: JAX PRNG key.
        progress: show a progress bar (``None``: :mod:`qml_phys.runtime.progress` decides).

    Returns:
        :class:`PlateauScan`.

    Raises:
        InvalidParameterError, UnknownNameError, TooLargeError: bad settings for one of the
            ``ns`` (checked before any work).
    """
    from qml_phys.runtime.progress import progress as bar
    from qml_phys.stats.bootstrap import bootstrap_variance

    t0 = time.perf_counter()
    config = PlateauConfig() if config is None else config
    if not isinstance(config, PlateauConfig):
        raise InvalidParameterError(
            f"config: expected a PlateauConfig; got {type(config).__name__}"
        )
    ns = [check_positive_int("n_qubits", n) for n in ns]
    if not ns:
        raise InvalidParameterError("ns: expected at least one qubit count; got none")
    ensembles = [config.ensemble(n) for n in ns]
    from qml_phys.runtime.resources import check_memory

    for e in ensembles:  # fail before any work
        _chunk(e.n_qubits, e.n_layers, config.n_draws, config.memory_limit, e.dtype)
        # the gradients of two ensembles in flight, float64 on the host, and the replicas
        check_memory(
            f"{config.n_draws} draws of {e.n_qubits}-qubit circuits with {e.n_params} "
            f"parameters and {config.n_boot} bootstrap replicas",
            3 * 8.0 * config.n_draws * (e.n_params + 1) + 32.0 * config.n_boot * config.n_draws,
        )
        if config.shots:
            _chunk(
                e.n_qubits, e.n_layers, config.n_draws, config.memory_limit, e.dtype, config.shots
            )
    keys = jax.random.split(key, (len(ns), 2))

    def launch(i):
        return gradient_ensemble(
            ensembles[i], key=keys[i, 0], n_draws=config.n_draws, memory_limit=config.memory_limit
        )

    rows, pending = [], launch(0)
    boot = {"n_boot": config.n_boot, "level": config.level}
    disable = None if progress is None else not progress
    for i in bar(range(len(ns)), desc="barren", disable=disable):
        grads = pending
        if i + 1 < len(ns):
            pending = launch(i + 1)  # compiles while grads are computed
        g = np.asarray(grads, dtype=np.float64)
        e, k_boot = ensembles[i], keys[i, 1]
        first = bootstrap_variance(g, key=k_boot, reduce="first", **boot)
        mean = bootstrap_variance(g, key=k_boot, reduce="mean", **boot)
        row = {
            "n": e.n_qubits,
            "layers": e.n_layers,
            "n_params": int(g.shape[1]),
            "var_first": first._asdict(),
            "var_mean": mean._asdict(),
            "two_design_mean": two_design_variance(e.n_qubits, e.cost, gates=e.gates),
            "two_design_first": two_design_variance(
                e.n_qubits, e.cost, which="first", gates=e.gates
            ),
        }
        if config.shots:
            row["shots"] = _shot_row(config, e, keys[i, 0], k_boot)
        rows.append(row)
    ref = np.log([r["two_design_mean"] for r in rows])
    depths = [e.n_layers for e in ensembles]
    return PlateauScan(
        config=config,
        history={
            "n": np.asarray(ns, np.float64),
            "layers": np.asarray(depths, np.float64),
            "var_mean": np.array([r["var_mean"]["value"] for r in rows]),
            "var_first": np.array([r["var_first"]["value"] for r in rows]),
        },
        wall_time_s=time.perf_counter() - t0,
        ns=ns,
        layers=depths,
        rows=rows,
        fit=_fits(ns, rows, config.level),
        two_design_rate=float(-np.polyfit(ns, ref, 1)[0]) if len(ns) >= 2 else None,
    )


def pennylane_qnode(config: EnsembleConfig, axes=None, *, device: str = "lightning.qubit"):
    """The circuit of ``config`` as a PennyLane QNode ``qnode(theta) -> C`` (for
    cross-checks).

    Args:
        config: the circuit family: ``gates="mcclean"`` for McClean's layout (RY(pi/4)
            start, one rotation per wire, CZ ladder), otherwise the CNOT-ring layout;
            ``init="identity"``: the layers form ``n_blocks`` blocks of a half and its
            inverse.
        axes: ``(n_layers, n_qubits, r)`` gate axes in {0, 1, 2}; ``None`` for the
            hardware-efficient circuit (RY, RZ).
        device: PennyLane device name (``lightning.qubit`` uses adjoint gradients,
            ``default.qubit`` backprop); the QNode uses the autograd interface.
    """
    import pennylane as qml

    from qml_phys.circuits.devices import diff_method_for, get_device

    n, layers, cost = config.n_qubits, config.n_layers, config.cost
    r = n_rotations(config.gates)
    axes = hea_axes(n, layers) if axes is None else np.asarray(axes, dtype=int)
    if axes.shape != (layers, n, r):
        raise InvalidParameterError(f"axes: expected shape {(layers, n, r)}; got {axes.shape}")
    rot = (qml.RX, qml.RY, qml.RZ)
    mcclean = config.gates == "mcclean"
    pairs = ladder_pairs(n) if mcclean else ring_pairs(n)
    ent = qml.CZ if mcclean else qml.CNOT
    dev = get_device(device, wires=n)
    if cost == "global":
        obs = qml.Identity(0) - qml.Projector([0] * n, wires=range(n))
    elif cost == "local":
        obs = qml.Identity(0) - qml.sum(*[qml.Projector([0], wires=w) for w in range(n)]) / n
    else:
        obs = qml.PauliZ(0) @ qml.PauliZ(1)
    per_block = layers // config.n_blocks if config.mirror else layers
    half = per_block // 2 if config.mirror else layers

    @qml.qnode(dev, diff_method=diff_method_for(dev), interface="autograd")
    def qnode(theta):
        if mcclean:
            for w in range(n):
                qml.RY(np.pi / 4, wires=w)
        for layer in range(layers):
            if layer % per_block < half:
                for w in range(n):
                    for j in range(r):
                        rot[axes[layer, w, j]](theta[layer, w, j], wires=w)
                for c, t in pairs:
                    ent(wires=[c, t])
            else:
                for c, t in reversed(pairs):
                    ent(wires=[c, t])
                for w in range(n):
                    for j in reversed(range(r)):
                        rot[axes[layer, w, j]](-theta[layer, w, j], wires=w)
        return qml.expval(obs)

    return qnode


def plot_scan(
    ax, scan: PlateauScan, *, which: str = "mean", label: str | None = None, reference=True
):
    """Draw a :class:`PlateauScan` on ``ax``: variances with their bootstrap intervals
    against ``n`` (log scale), the exponential fit, and the 2-design value."""
    from qml_phys.runtime import plots

    ns = np.asarray(scan.ns)
    rows = scan.rows
    v = np.array([r[f"var_{which}"]["value"] for r in rows])
    lo = np.array([r[f"var_{which}"]["low"] for r in rows])
    hi = np.array([r[f"var_{which}"]["high"] for r in rows])
    c = scan.config
    label = label or f"{c.cost} cost, {c.gates}, {c.init} init"
    err = np.clip(np.stack([v - lo, hi - v]), 0, None)
    line = ax.errorbar(ns, v, yerr=err, fmt="o", capsize=2, label=label)
    fit = (scan.fit or {}).get(which)
    if fit:
        e = fit["exponential"]
        ax.plot(
            ns,
            np.exp(e["intercept"] - e["rate"] * ns),
            color=line[0].get_color(),
            lw=0.9,
            label=f"fit: rate {e['rate']:.2f} [{e['low']:.2f}, {e['high']:.2f}] per qubit",
        )
    if reference:
        ref = [r[f"two_design_{which}"] for r in rows]
        ax.plot(ns, ref, label=f"2-design ({c.cost})", **plots.EXACT)
    ax.set_yscale("log")
    ax.set_xlabel("qubits n")
    ax.set_ylabel(r"Var[$\partial C / \partial\theta$]")
    return ax


#: ``E[Tr A^2]`` (see :func:`two_design_variance`) for the first parameter of each circuit:
#: HEA: RY on |0>, (1 - <Y>^2)/2 = 1/2; random Pauli on |0>: (1 - 1/3)/2 = 1/3; McClean's
#: random Pauli on RY(pi/4)|0> (<X>^2 = <Z>^2 = 1/2, <Y> = 0): (1 - 1/3)/2 = 1/3.
_FIRST = {"hea": 0.5, "random": 1.0 / 3.0, "mcclean": 1.0 / 3.0}


def two_design_variance(
    n_qubits: int, cost: str, *, which: str = "mean", gates: str = "hea"
) -> float:
    r"""Gradient variance when the circuit after (and before) the parameter is a 2-design.

    For :math:`C = \mathrm{Tr}(O\,U_+ R(\theta) \rho_- R^\dagger U_+^\dagger)` with a Pauli
    rotation :math:`R = e^{-i\theta P/2}` and :math:`U_+` Haar-random on :math:`N = 2^n`
    dimensions, the second moment of the Haar average gives

    .. math:: \mathrm{Var}[\partial_\theta C] = E[\mathrm{Tr} A^2]\,
       \frac{\mathrm{Tr}\,O^2 - (\mathrm{Tr}\,O)^2/N}{N^2 - 1},\qquad
       A = -i[P/2, \rho_-],\quad \mathrm{Tr} A^2 = \tfrac12(1 - \langle P\rangle^2).

    ``which="mean"``: :math:`\rho_-` also Haar-random, :math:`E\langle P\rangle^2 =
    1/(N+1)`, so :math:`E[\mathrm{Tr} A^2] = N / (2(N+1))` (parameters deep inside the
    circuit). ``which="first"``: the first gate acts on the known input state (see
    ``_FIRST``). Global projector: :math:`1/(2(N+1)^2)` (``-> ln 4`` per qubit); ``Z_0Z_1``:
    :math:`N^2/(2(N+1)^2(N-1))` (``-> ln 2`` per qubit), as in McClean et al. (2018) and
    Cerezo et al. (2021).
    """
    n = check_positive_int("n_qubits", n_qubits)
    if cost not in COSTS or gates not in GATES or which not in ("mean", "first"):
        raise InvalidParameterError(
            f"expected cost in {COSTS}, gates in {GATES}, which in ('mean', 'first'); got "
            f"{cost!r}, {gates!r}, {which!r}"
        )
    f = cost_values(n, cost)
    N = float(2**n)
    spread = float(np.sum(f * f) - np.sum(f) ** 2 / N)
    tr_a2 = N / (2 * (N + 1)) if which == "mean" else _FIRST[gates]
    return tr_a2 * spread / (N * N - 1)
