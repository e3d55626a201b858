r"""The circuit family of the barren-plateau studies and its pure-JAX state-vector simulator.

The state is a flat ``(2**n,)`` complex vector (wire 0 is the most significant bit, as in
PennyLane). A layer of single-qubit gates is one ``lax.scan`` over wires whose body applies
a ``2 x 2`` matrix to the leading qubit and rotates the qubit order by one (so the compiled
program does not grow with ``n``); a CNOT ring is one fixed index permutation and a CZ
ladder one fixed sign vector; ``lax.scan`` runs over layers (compile time does not grow
with depth) with ``jax.checkpoint`` per layer (memory ``O(n_layers 2**n)`` per circuit, not
``O(n_layers n 2**n)``); an adjoint pass gives all partial derivatives at once.
:mod:`qml_phys.circuits.ensembles` runs the simulator over ensembles of random draws, and
:mod:`qml_phys.circuits.barren` over qubit counts.

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

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    check_name,
    check_number,
    check_positive_int,
)

__all__ = [
    "COSTS",
    "DTYPES",
    "GATES",
    "INITS",
    "CircuitFamily",
    "EnsembleConfig",
    "circuit_cost",
    "cost_values",
    "hea_axes",
    "ladder_pairs",
    "n_rotations",
    "ring_pairs",
]

#: Cost names.
COSTS = ("global", "local", "zz")
#: Initialisation names.
INITS = ("uniform", "small", "identity")
#: Gate-set names.
GATES = ("hea", "random", "mcclean")
#: Simulation precisions.
DTYPES = ("float32", "float64")


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


def _check(n_qubits, n_layers, cost, init, gates, sigma=0.1, n_blocks=1, dtype="float32"):
    n = check_positive_int("n_qubits", n_qubits, minimum=1)
    layers = check_positive_int("n_layers", n_layers, minimum=1)
    blocks = check_positive_int("n_blocks", n_blocks, minimum=1)
    check_name("cost", cost, COSTS)
    check_name("init", init, INITS)
    check_name("gates", gates, GATES)
    check_name("dtype", dtype, DTYPES)
    if cost == "zz" and n < 2:
        raise InvalidParameterError(f"n_qubits: cost='zz' (Z0 Z1) needs at least 2; got {n}")
    if init == "identity" and layers % (2 * blocks):
        raise InvalidParameterError(
            f"n_layers: expected a multiple of 2 * n_blocks = {2 * blocks} for "
            f"init='identity' (each block is a half and its inverse); got {layers}"
        )
    if init == "small":
        check_number("sigma", sigma, minimum=0, strict=True)
    return n, layers


def _dtypes(dtype: str = "float32"):
    if dtype == "float64" and not jax.config.jax_enable_x64:
        return jnp.float32, jnp.complex64  # x64 off: JAX cannot make 64-bit arrays
    return (jnp.float64, jnp.complex128) if dtype == "float64" else (jnp.float32, jnp.complex64)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CircuitFamily:
    """The gates, initialisation, cost and precision of a family of random circuits, at
    any size (:class:`EnsembleConfig` fixes the size; ``barren.PlateauConfig`` scans it)."""

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

    def family(self) -> dict:
        """The fields of :class:`CircuitFamily` by name (to build an :class:`EnsembleConfig`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(CircuitFamily)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class EnsembleConfig(CircuitFamily):
    """A family of random circuits and the cost measured on them (see the module
    docstring) at one size: what :func:`gradient_ensemble` and :func:`shot_ensemble` draw
    from."""

    n_qubits: int
    """Number of qubits ``n`` (>= 1; >= 2 for ``cost="zz"``)."""
    n_layers: int
    """Circuit layers (a multiple of ``2 n_blocks`` for ``init="identity"``)."""

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
        check_number("sigma", sigma, minimum=0, strict=True)
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
        static = self.family() | {"n_qubits": self.n_qubits, "n_layers": self.n_layers}
        del static["sigma"]  # traced: a new sigma does not recompile
        return static


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
