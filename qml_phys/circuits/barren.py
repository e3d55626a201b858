r"""Fast gradient-variance engine for barren-plateau studies.

Estimates :math:`\mathrm{Var}[\partial C / \partial\theta_k]` over an ensemble of random
circuits with a pure-JAX state-vector simulator: the state is a ``(2,) * n`` complex array
(wire 0 is the first axis, as in PennyLane), single-qubit gates are ``tensordot`` on one
axis, a CNOT ring is one fixed index permutation, ``lax.scan`` runs over layers (compile
time does not grow with depth), ``jax.grad`` gives all partial derivatives and ``jax.vmap``
runs the whole ensemble of random draws in one jitted call.

Circuits (parameters ``theta`` of shape ``(n_layers, n_qubits, 2)``, gate axes ``axes`` of
the same shape in ``{0: X, 1: Y, 2: Z}``):

* ``gates="hea"`` -- exactly :class:`qml_phys.circuits.ansatz.HardwareEfficient`: per layer
  ``RY(theta[l, w, 0])`` then ``RZ(theta[l, w, 1])`` on each wire ``w``, then CNOTs
  ``(0,1), (1,2), ..., (n-1,0)`` (one CNOT for ``n = 2``, none for ``n = 1``).
* ``gates="random"`` -- McClean-style random Pauli rotations: the same layout, but each of
  the two rotations is ``RX``, ``RY`` or ``RZ`` drawn uniformly per gate and per circuit
  draw (J. R. McClean et al., Nat. Commun. 9, 4812 (2018), arXiv:1803.11173; their initial
  ``RY(pi/4)`` layer and CZ ladder are replaced by the package's layer structure).

``R_P(t) = exp(-i t P / 2)``, as in PennyLane.

Costs (M. Cerezo et al., Nat. Commun. 12, 1791 (2021), arXiv:2001.00550):

* ``"global"``: :math:`C = 1 - |\langle 0\ldots0|\psi\rangle|^2`;
* ``"local"``: :math:`C = 1 - \frac1n \sum_i \langle (1 + Z_i)/2 \rangle`.

Initialisations:

* ``"uniform"``: :math:`\theta \sim U[0, 2\pi)`;
* ``"small"``: :math:`\theta \sim N(0, \sigma^2)`;
* ``"identity"``: one identity block (E. Grant et al., Quantum 3, 214 (2019),
  arXiv:1903.05076): ``n_layers`` must be even; the first ``n_layers/2`` layers are
  hardware-efficient layers with uniform angles and the last ``n_layers/2`` are *inverse*
  layers (inverse CNOT ring, then ``R_{a0}(-t0) R_{a1}(-t1)`` per wire) whose angles are the
  first half's in reverse order, so the circuit is the identity at initialisation. The
  circuit structure (``mirror=True``) is thus different from the plain one. At that point
  the global and local costs are at their minimum ``0`` and every gradient vanishes.

Dtypes: float32/complex64, or float64/complex128 when ``jax_enable_x64`` is on.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, UnknownNameError, check_positive_int

__all__ = [
    "COSTS",
    "GATES",
    "INITS",
    "circuit_cost",
    "draw_circuit",
    "gradient_ensemble",
    "pennylane_qnode",
    "ring_pairs",
    "trace_count",
    "variance_scan",
]

#: Cost names.
COSTS = ("global", "local")
#: Initialisation names.
INITS = ("uniform", "small", "identity")
#: Gate-set names.
GATES = ("hea", "random")

_TRACES = [0]  # times the ensemble function was traced (a Python side effect for tests)


def trace_count() -> int:
    """How many times the jitted ensemble function has been traced (compiled) so far."""
    return _TRACES[0]


def ring_pairs(n_qubits: int) -> list[tuple[int, int]]:
    """CNOT ``(control, target)`` pairs of one layer, as in ``HardwareEfficient``."""
    n = n_qubits
    return [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if n > 2 else [])


def _ring_permutation(n: int) -> np.ndarray:
    """Index array ``p`` with ``ring(psi).ravel() == psi.ravel()[p]`` (wire 0 = MSB)."""
    idx = np.arange(2**n)
    perm = idx.copy()
    for c, t in ring_pairs(n):  # psi_k = psi_{k-1}[p_k]  =>  psi = psi_0[p_1[p_2[...]]]
        bit_c, bit_t = 1 << (n - 1 - c), 1 << (n - 1 - t)
        p = np.where(idx & bit_c, idx ^ bit_t, idx)
        perm = perm[p]
    return perm


def _check_name(kind: str, value, names: tuple) -> str:
    if value not in names:
        raise UnknownNameError(f"{kind}: expected one of {', '.join(names)}; got {value!r}")
    return value


def _check(n_qubits, n_layers, cost, init, gates, sigma=0.1):
    n = check_positive_int("n_qubits", n_qubits, minimum=1)
    layers = check_positive_int("n_layers", n_layers, minimum=1)
    _check_name("cost", cost, COSTS)
    _check_name("init", init, INITS)
    _check_name("gates", gates, GATES)
    if init == "identity" and layers % 2:
        raise InvalidParameterError(
            f"n_layers: expected an even number for init='identity' (a block and its "
            f"inverse); got {layers}"
        )
    if init == "small" and not (math.isfinite(float(sigma)) and float(sigma) > 0):
        raise InvalidParameterError(f"sigma: expected a finite number > 0; got {sigma!r}")
    return n, layers


def _dtypes():
    return jax.dtypes.canonicalize_dtype(jnp.float64), jax.dtypes.canonicalize_dtype(jnp.complex128)


_PAULIS = np.array([[[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]])


def _rotations(axes, theta, cdtype):
    """``exp(-i theta P_axis / 2)`` as ``(..., 2, 2)`` matrices; ``axes`` in {0, 1, 2}."""
    paulis = jnp.asarray(_PAULIS, dtype=cdtype)[axes]
    c = jnp.cos(theta / 2).astype(cdtype)[..., None, None]
    s = jnp.sin(theta / 2).astype(cdtype)[..., None, None]
    eye = jnp.eye(2, dtype=cdtype).reshape((1,) * theta.ndim + (2, 2))
    return c * eye - 1j * s * paulis


def _apply_1q(psi, u, wire: int):
    return jnp.moveaxis(jnp.tensordot(u, psi, axes=([1], [wire])), 0, wire)


def _final_state(theta, axes, *, n_qubits: int, mirror: bool):
    """State ``(2,) * n`` after the circuit; see the module docstring."""
    n = n_qubits
    fdtype, cdtype = _dtypes()
    perm = jnp.asarray(_ring_permutation(n))
    inv_perm = jnp.asarray(np.argsort(_ring_permutation(n)))
    psi = jnp.zeros((2,) * n, dtype=cdtype).at[(0,) * n].set(1)

    def forward(psi, layer):
        r = _rotations(layer[1], layer[0], cdtype)  # (n, 2, 2, 2): wire, slot, matrix
        u = r[:, 1] @ r[:, 0]
        for w in range(n):
            psi = _apply_1q(psi, u[w], w)
        return psi.reshape(-1)[perm].reshape((2,) * n), None

    def inverse(psi, layer):
        psi = psi.reshape(-1)[inv_perm].reshape((2,) * n)
        r = _rotations(layer[1], -layer[0], cdtype)
        u = r[:, 0] @ r[:, 1]
        for w in range(n):
            psi = _apply_1q(psi, u[w], w)
        return psi, None

    theta = theta.astype(fdtype)
    if not mirror:
        psi, _ = jax.lax.scan(forward, psi, (theta, axes))
        return psi
    half = theta.shape[0] // 2
    psi, _ = jax.lax.scan(forward, psi, (theta[:half], axes[:half]))
    psi, _ = jax.lax.scan(inverse, psi, (theta[half:], axes[half:]))
    return psi


def circuit_cost(theta, axes, *, n_qubits: int, cost: str, mirror: bool = False):
    """Cost ``C`` (scalar float) of the circuit with angles ``theta`` and gate ``axes``.

    Args:
        theta: ``(n_layers, n_qubits, 2)`` float angles.
        axes: ``(n_layers, n_qubits, 2)`` int in {0: X, 1: Y, 2: Z}; for the hardware-
            efficient circuit ``axes[..., 0] = 1`` (RY), ``axes[..., 1] = 2`` (RZ).
        n_qubits: number of qubits (static).
        cost: ``"global"`` or ``"local"`` (static).
        mirror: second half of the layers are inverse layers (``init="identity"``).
    """
    n = n_qubits
    psi = _final_state(theta, axes, n_qubits=n, mirror=mirror)
    prob = jnp.real(psi * jnp.conj(psi))
    if cost == "global":
        return 1 - prob[(0,) * n]
    p0 = jnp.stack([jnp.sum(jnp.take(prob, 0, axis=w)) for w in range(n)])
    return 1 - jnp.mean(p0)


def hea_axes(n_qubits: int, n_layers: int) -> np.ndarray:
    """Gate axes of the hardware-efficient circuit: RY (1) then RZ (2) everywhere."""
    axes = np.empty((n_layers, n_qubits, 2), dtype=np.int32)
    axes[..., 0], axes[..., 1] = 1, 2
    return axes


@functools.partial(jax.jit, static_argnames=("n_qubits", "n_layers", "init", "gates"))
def draw_circuit(key, *, n_qubits, n_layers, init="uniform", sigma=0.1, gates="hea"):
    """One random circuit: ``(theta, axes)`` each of shape ``(n_layers, n_qubits, 2)``."""
    fdtype, _ = _dtypes()
    k_theta, k_axes = jax.random.split(key)
    shape = (n_layers, n_qubits, 2)
    if gates == "hea":
        axes = jnp.asarray(hea_axes(n_qubits, n_layers))
    else:
        axes = jax.random.randint(k_axes, shape, 0, 3, dtype=jnp.int32)
    if init == "uniform":
        theta = jax.random.uniform(k_theta, shape, fdtype, 0, 2 * jnp.pi)
    elif init == "small":
        theta = sigma * jax.random.normal(k_theta, shape, fdtype)
    else:  # identity: second half mirrors the first
        half = n_layers // 2
        first = jax.random.uniform(k_theta, (half, n_qubits, 2), fdtype, 0, 2 * jnp.pi)
        theta = jnp.concatenate([first, first[::-1]], axis=0)
        axes = jnp.concatenate([axes[:half], axes[:half][::-1]], axis=0)
    return theta, axes


@functools.partial(
    jax.jit, static_argnames=("n_qubits", "n_layers", "n_draws", "cost", "init", "gates")
)
def _ensemble(key, sigma, *, n_qubits, n_layers, n_draws, cost, init, gates):
    _TRACES[0] += 1  # runs at trace time only
    mirror = init == "identity"
    grad = jax.value_and_grad(
        functools.partial(circuit_cost, n_qubits=n_qubits, cost=cost, mirror=mirror)
    )

    def one(k):
        theta, axes = draw_circuit(
            k, n_qubits=n_qubits, n_layers=n_layers, init=init, sigma=sigma, gates=gates
        )
        c, g = grad(theta, axes)
        return c, g.reshape(-1)

    return jax.vmap(one)(jax.random.split(key, n_draws))


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
    return_cost: bool = False,
):
    r"""Gradients :math:`\partial C/\partial\theta_k` of ``n_draws`` random circuits.

    One jitted call (compiled once per static configuration; a new ``key`` or ``sigma``
    does not recompile).

    Args:
        key: JAX PRNG key (keyword-only randomness, split here).
        n_qubits, n_layers: circuit size (``n_layers`` even for ``init="identity"``).
        n_draws: ensemble size.
        cost: one of :data:`COSTS`; init: one of :data:`INITS`; gates: one of :data:`GATES`.
        sigma: standard deviation of ``init="small"`` (radians).
        return_cost: also return the costs.

    Returns:
        ``(n_draws, 2 * n_layers * n_qubits)`` float gradients, parameter order
        ``(layer, wire, rotation)`` flattened (index 0 = first rotation on wire 0, layer 0);
        with ``return_cost``, ``(costs (n_draws,), gradients)``.
    """
    n, layers = _check(n_qubits, n_layers, cost, init, gates, sigma)
    draws = check_positive_int("n_draws", n_draws, minimum=1)
    fdtype, _ = _dtypes()
    costs, grads = _ensemble(
        key,
        jnp.asarray(sigma, dtype=fdtype),
        n_qubits=n,
        n_layers=layers,
        n_draws=draws,
        cost=cost,
        init=init,
        gates=gates,
    )
    return (costs, grads) if return_cost else grads


def variance_scan(
    key,
    ns,
    depths=None,
    *,
    n_draws: int = 200,
    cost: str = "global",
    init: str = "uniform",
    sigma: float = 0.1,
    gates: str = "hea",
) -> dict:
    """Gradient variances on the grid ``ns x depths``.

    Args:
        key: JAX PRNG key; each grid point uses ``fold_in(key, index)``.
        ns: qubit counts.
        depths: layer counts; ``None`` means depth ``= n`` (one column).

    Returns:
        ``{"ns", "depths", "var_first", "var_mean", "config"}``: ``var_first`` the variance
        of the first parameter's derivative (as McClean et al.) and ``var_mean`` the
        variance averaged over all parameters, both ``(len(ns), len(depths))`` float64
        numpy arrays (with ``depths=None``, one column with depth ``n`` per row).
    """
    ns = [check_positive_int("n_qubits", n) for n in ns]
    cols = [None] if depths is None else [check_positive_int("n_layers", d) for d in depths]
    var_first = np.zeros((len(ns), len(cols)))
    var_mean = np.zeros((len(ns), len(cols)))
    for i, n in enumerate(ns):
        for j, d in enumerate(cols):
            grads = gradient_ensemble(
                jax.random.fold_in(key, i * len(cols) + j),
                n_qubits=n,
                n_layers=n if d is None else d,
                n_draws=n_draws,
                cost=cost,
                init=init,
                sigma=sigma,
                gates=gates,
            )
            g = np.asarray(grads, dtype=np.float64)
            var = g.var(axis=0, ddof=1) if g.shape[0] > 1 else np.zeros(g.shape[1])
            var_first[i, j], var_mean[i, j] = var[0], var.mean()
    return {
        "ns": list(ns),
        "depths": None if depths is None else list(cols),
        "var_first": var_first,
        "var_mean": var_mean,
        "config": {"n_draws": n_draws, "cost": cost, "init": init, "sigma": sigma, "gates": gates},
    }


def pennylane_qnode(
    n_qubits: int,
    n_layers: int,
    cost: str = "global",
    axes=None,
    *,
    mirror: bool = False,
    device: str = "lightning.qubit",
):
    """The same circuit as a PennyLane QNode ``qnode(theta) -> C`` (for cross-checks).

    Args:
        n_qubits, n_layers: circuit size.
        cost: one of :data:`COSTS`.
        axes: ``(n_layers, n_qubits, 2)`` gate axes in {0, 1, 2}; ``None`` for the
            hardware-efficient circuit (RY, RZ).
        mirror: second half of the layers are inverse layers (``init="identity"``).
        device: PennyLane device name (``lightning.qubit`` uses adjoint gradients,
            ``default.qubit`` backprop); the QNode uses the autograd interface.
    """
    import pennylane as qml

    from qml_phys.circuits.devices import diff_method_for, get_device

    n, layers = _check(n_qubits, n_layers, cost, "identity" if mirror else "uniform", "hea")
    axes = hea_axes(n, layers) if axes is None else np.asarray(axes, dtype=int)
    if axes.shape != (layers, n, 2):
        raise InvalidParameterError(f"axes: expected shape {(layers, n, 2)}; got {axes.shape}")
    rot = (qml.RX, qml.RY, qml.RZ)
    ring = ring_pairs(n)
    dev = get_device(device, wires=n)
    if cost == "global":
        obs = qml.Identity(0) - qml.Projector([0] * n, wires=range(n))
    else:
        obs = qml.Identity(0) - qml.sum(*[qml.Projector([0], wires=w) for w in range(n)]) / n
    half = layers // 2 if mirror else layers

    @qml.qnode(dev, diff_method=diff_method_for(dev), interface="autograd")
    def qnode(theta):
        for layer in range(half):
            for w in range(n):
                rot[axes[layer, w, 0]](theta[layer, w, 0], wires=w)
                rot[axes[layer, w, 1]](theta[layer, w, 1], wires=w)
            for c, t in ring:
                qml.CNOT(wires=[c, t])
        for layer in range(half, layers):
            for c, t in reversed(ring):
                qml.CNOT(wires=[c, t])
            for w in range(n):
                rot[axes[layer, w, 1]](-theta[layer, w, 1], wires=w)
                rot[axes[layer, w, 0]](-theta[layer, w, 0], wires=w)
        return qml.expval(obs)

    return qnode
