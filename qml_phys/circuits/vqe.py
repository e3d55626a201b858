r"""Variational quantum eigensolver on any PennyLane device.

:func:`run_vqe` minimises ``<psi(theta)|H|psi(theta)>`` for a model of
:mod:`qml_phys.physics.models` (its ``to_pennylane()`` Hamiltonian) with an ansatz of
:mod:`qml_phys.circuits.ansatz`, and compares with the exact ground energy
(:func:`exact_ground_energy`: free fermions for the periodic TFIM chain, Lanczos otherwise).
:func:`run_vqe_h2` does the same for H2 in STO-3G from PennyLane's built-in differentiable
Hartree-Fock (``qml.qchem``, no external chemistry package; A. Peruzzo et al., Nat. Commun.
5, 4213 (2014), arXiv:1304.3061).

Optimisers: ``"adam"`` (``optax.adam``), ``"lbfgs"`` (``optax.lbfgs`` with its zoom line
search, for high precision), ``"qng"`` (quantum natural gradient, J. Stokes et al., Quantum
4, 269 (2020), arXiv:1909.02108: the gradient is preconditioned with PennyLane's
block-diagonal ``qml.metric_tensor`` plus ``1e-8`` on the diagonal, then ``optax.sgd``;
the metric is evaluated through PennyLane's autograd interface), or
any ``optax.GradientTransformation``. Gradients come from the device's best method
(:func:`~qml_phys.circuits.devices.diff_method_for`) through PennyLane's JAX interface,
evaluated in float64 with JAX's standard dtype promotion (PennyLane's backprop mixes complex
and real arrays internally) for the duration of the run only (:func:`float64_mode`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pennylane as qml

from qml_phys.circuits.ansatz import init_params, make_ansatz
from qml_phys.circuits.devices import DeviceConfig, check_wires, diff_method_for
from qml_phys.errors import InvalidParameterError, UnknownNameError, check_positive_int

__all__ = [
    "H2_FCI_0P7414",
    "OPTIMIZERS",
    "VQEResult",
    "energy_of",
    "exact_ground_energy",
    "float64_mode",
    "h2_hamiltonian",
    "minimize",
    "run_vqe",
    "run_vqe_h2",
]

#: Names accepted for ``optimizer``.
OPTIMIZERS = ("adam", "lbfgs", "qng")

#: Largest number of sites :func:`exact_ground_energy` diagonalises with Lanczos.
MAX_LANCZOS_SITES = 20

#: FCI energy (Ha) of H2 in STO-3G at 0.7414 Angstrom (our Lanczos of PennyLane's qubit
#: Hamiltonian; the often quoted -1.136189 Ha belongs to 1.3228 bohr = 0.7000 Angstrom).
H2_FCI_0P7414 = -1.137270174878


@dataclasses.dataclass(frozen=True)
class VQEResult:
    """Outcome of a VQE run.

    Attributes:
        energies: ``(n_iter + 1,)`` float64, the energy before each update and at the end.
        params: final parameters (float64, the ansatz's shape).
        energy: final energy ``energies[-1]``.
        exact_energy: exact ground energy, or ``None`` if too large to compute.
        relative_error: ``|energy - exact| / |exact|`` (``None`` without exact energy).
        config: the run's settings (JSON-able).
        wall_time_s: optimisation wall time in seconds.
    """

    energies: np.ndarray
    params: np.ndarray
    energy: float
    exact_energy: float | None
    relative_error: float | None
    config: dict
    wall_time_s: float

    def summary(self) -> dict:
        """JSON-able dict of the results (energies as a list)."""
        return {
            "energy": self.energy,
            "exact_energy": self.exact_energy,
            "relative_error": self.relative_error,
            "n_iterations": len(self.energies) - 1,
            "energies": self.energies.tolist(),
            "params": self.params.tolist(),
            "wall_time_s": self.wall_time_s,
        }


def exact_ground_energy(model) -> float | None:
    """Exact ground energy of ``model``: the free-fermion formula
    (:func:`~qml_phys.physics.exact.tfim_chain_ground_energy`) for a periodic TFIM chain
    with ``h = 0``, Lanczos up to :data:`MAX_LANCZOS_SITES` sites, else ``None``."""
    from qml_phys.physics import exact
    from qml_phys.physics.models import TransverseFieldIsing

    lattice = getattr(model, "lattice", None)
    if (
        isinstance(model, TransverseFieldIsing)
        and model.h == 0.0
        and lattice.kind == "chain"
        and lattice.pbc
    ):
        return float(exact.tfim_chain_ground_energy(model.n_sites, model.J, model.gamma))
    if model.n_sites <= MAX_LANCZOS_SITES:
        return float(exact.lanczos(model)[0])
    return None


def _device(device, n_wires: int, seed: int | None):
    if isinstance(device, str):
        device = DeviceConfig.from_string(device)
    if isinstance(device, DeviceConfig):
        if device.seed is None and device.shots is not None:
            device = dataclasses.replace(device, seed=seed)
        device = device.make(n_wires)
    return device


def _optimizer(optimizer, lr: float):
    if isinstance(optimizer, optax.GradientTransformation):
        return optimizer, "custom"
    if optimizer == "adam":
        return optax.adam(lr), "adam"
    if optimizer == "lbfgs":
        return optax.lbfgs(), "lbfgs"
    if optimizer == "qng":
        return optax.sgd(lr), "qng"
    raise UnknownNameError(
        f"optimizer: expected one of {', '.join(OPTIMIZERS)} or an optax "
        f"GradientTransformation; got {optimizer!r}"
    )


def _init(init, ansatz, layers: int, seed: int) -> np.ndarray:
    shape = ansatz.shape(layers, ansatz.n_wires)
    if isinstance(init, str):
        if init == "random":
            return init_params(ansatz, layers, seed=seed)
        if init == "zeros":
            return np.zeros(shape)
        raise UnknownNameError(f"init: expected 'random', 'zeros' or an array; got {init!r}")
    arr = np.asarray(init, dtype=np.float64)
    if arr.shape != shape:
        raise InvalidParameterError(f"init: expected an array of shape {shape}; got {arr.shape}")
    return arr.copy()


@contextlib.contextmanager
def float64_mode():
    """JAX in float64 with standard dtype and rank promotion, restored on exit.

    The settings are changed globally, not with JAX's thread-local context managers:
    PennyLane runs lightning's adjoint gradients and Aer as ``jax.pure_callback``, whose
    Python side runs on an XLA thread that does not see a thread-local ``jax.enable_x64``
    (it would return float32 and fail the callback's float64 signature). Not thread-safe:
    do not run other JAX work in parallel threads meanwhile.
    """
    names = ("jax_enable_x64", "jax_numpy_dtype_promotion", "jax_numpy_rank_promotion")
    old = {name: getattr(jax.config, name) for name in names}
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_numpy_dtype_promotion", "standard")
    jax.config.update("jax_numpy_rank_promotion", "allow")
    try:
        yield
    finally:
        for name, value in old.items():
            jax.config.update(name, value)


def minimize(
    cost_qnode,
    params0: np.ndarray,
    *,
    optimizer="adam",
    steps: int,
    lr: float = 0.05,
    gtol: float = 1e-9,
    jit: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise a scalar JAX-interface QNode from ``params0``.

    Stops after ``steps`` updates or when the gradient's 2-norm drops below ``gtol``.
    ``jit=True`` compiles one whole optimisation step (use it for backprop and adjoint;
    lightning's adjoint then runs as a JAX callback): about 3x faster per gradient here,
    and about 10x for L-BFGS, whose line-search loop is otherwise traced at every step.
    Returns ``(energies, params)`` with ``energies`` the value before each update and at
    the final parameters. Runs inside :func:`float64_mode`.
    """
    steps = check_positive_int("steps", steps, minimum=1)
    try:
        rate = float(lr)
    except (TypeError, ValueError):
        rate = math.nan
    if not math.isfinite(rate) or rate <= 0:
        raise InvalidParameterError(f"lr: expected a positive finite float; got {lr!r}")
    opt, kind = _optimizer(optimizer, rate)
    with float64_mode():
        return _minimize(cost_qnode, params0, opt, kind, steps, gtol, jit)


def _metric_fn(cost_qnode):
    """Block-diagonal Fubini-Study metric ``(P, P)`` of a QNode's state at ``params``.

    ``qml.metric_tensor`` fails under the JAX interface with JAX 0.10 (it calls the removed
    ``jax.core.TraceTag``), so it is evaluated on an autograd twin of the QNode.
    """
    from pennylane import numpy as pnp

    twin = qml.QNode(cost_qnode.func, cost_qnode.device, interface="autograd")
    metric = qml.metric_tensor(twin, approx="block-diag")

    def fn(params):
        p = np.asarray(params, dtype=np.float64)
        g = np.asarray(metric(pnp.array(p, requires_grad=True)), dtype=np.float64)
        return g.reshape(p.size, p.size)

    return fn


def _minimize(cost_qnode, params0, opt, kind, steps, gtol, jit):
    def cost(p):
        return jnp.asarray(cost_qnode(p), dtype=jnp.float64)

    if kind == "lbfgs":
        value_and_grad = optax.value_and_grad_from_state(cost)

        def step(params, state):
            value, grad = value_and_grad(params, state=state)
            updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=cost)
            return optax.apply_updates(params, updates), state, value, grad

    else:
        value_and_grad = jax.value_and_grad(cost)

        def step(params, state, precondition=None):
            value, grad = value_and_grad(params)
            direction = grad
            if precondition is not None:  # quantum natural gradient: solve (g + eps) x = grad
                size = params.size
                eye = jnp.eye(size, dtype=jnp.float64)
                direction = jnp.linalg.solve(precondition + 1e-8 * eye, grad.reshape(size))
                direction = direction.reshape(params.shape)
            updates, state = opt.update(direction, state, params)
            return optax.apply_updates(params, updates), state, value, grad

    if jit:  # one compiled step; the line search's while loop is traced once, not per step
        step = jax.jit(step)
        cost = jax.jit(cost)
    metric = _metric_fn(cost_qnode) if kind == "qng" else None
    params = jnp.asarray(params0, dtype=jnp.float64)
    state = opt.init(params)
    energies = []
    for _ in range(steps):
        if metric is not None:
            new, new_state, value, grad = step(params, state, jnp.asarray(metric(params)))
        else:
            new, new_state, value, grad = step(params, state)
        energies.append(float(value))
        if float(jnp.linalg.norm(grad)) < gtol:
            break
        params, state = new, new_state
    energies.append(float(cost(params)))
    return np.asarray(energies, dtype=np.float64), np.asarray(params, dtype=np.float64)


def _write(out, stem: str, result: VQEResult, seed: int, title: str) -> None:
    from qml_phys.runtime import plots
    from qml_phys.runtime.records import write_record

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_record(
        out / f"{stem}.json", result.summary(), config=result.config, seed=seed, kind="vqe"
    )
    fig, ax = plots.figure()
    ax.plot(np.arange(len(result.energies)), result.energies, label="VQE")
    if result.exact_energy is not None:
        ax.axhline(result.exact_energy, label="exact", **plots.EXACT)
    ax.set_xlabel("iteration")
    ax.set_ylabel("energy")
    ax.set_title(title)
    ax.legend()
    plots.save(fig, out / f"{stem}.png")


def run_vqe(
    model,
    *,
    ansatz: str = "hva",
    layers: int,
    device="lightning.qubit",
    optimizer="adam",
    steps: int = 200,
    lr: float = 0.05,
    seed: int = 0,
    init="random",
    gtol: float = 1e-9,
    out: str | Path | None = None,
) -> VQEResult:
    """VQE for the ground state of ``model``.

    Args:
        model: a model of :mod:`qml_phys.physics.models` (``n_sites``, ``to_pennylane()``).
        ansatz: ``"hva"`` (TFIM or Heisenberg), ``"hea"`` or ``"qaoa"`` (diagonal models).
        layers: number of ansatz layers ``>= 1``.
        device: a device name or ``"name:shots=..:seed=.."`` string, a
            :class:`~qml_phys.circuits.devices.DeviceConfig`, or a PennyLane device.
        optimizer: ``"adam"``, ``"lbfgs"``, ``"qng"`` or an ``optax.GradientTransformation``.
        steps: maximum number of updates.
        lr: learning rate (Adam, QNG).
        seed: seed of the random initial parameters (and of a shot-based device made here
            without its own seed).
        init: ``"random"`` (``0.1 N(0,1)``), ``"zeros"`` or an array of the ansatz's shape.
        gtol: stop when the gradient norm is below this.
        out: folder for ``vqe.json`` (record) and ``vqe.png`` (energy vs iteration), or None.

    Raises:
        InvalidParameterError: the device has too few wires, or bad arguments.
        UnknownNameError: unknown ansatz, optimiser or device name.
    """
    layers = check_positive_int("layers", layers, minimum=1)
    seed = check_positive_int("seed", seed, minimum=0)
    circuit = make_ansatz(ansatz, model)
    hamiltonian = model.to_pennylane()
    n = model.n_sites
    dev = _device(device, n, seed)
    check_wires(hamiltonian, dev)
    check_wires(n, dev)
    params0 = _init(init, circuit, layers, seed)
    method = diff_method_for(dev)

    @qml.qnode(dev, interface="jax", diff_method=method)
    def energy(p):
        circuit(p)
        return qml.expval(hamiltonian)

    start = time.perf_counter()
    energies, params = minimize(
        energy,
        params0,
        optimizer=optimizer,
        steps=steps,
        lr=lr,
        gtol=gtol,
        jit=method in ("backprop", "adjoint"),
    )
    wall = time.perf_counter() - start
    exact = exact_ground_energy(model)
    final = float(energies[-1])
    rel = None if exact is None else abs(final - exact) / abs(exact)
    config = {
        "model": repr(model),
        "ansatz": ansatz,
        "layers": layers,
        "device": str(device) if isinstance(device, (str, DeviceConfig)) else dev.name,
        "diff_method": method,
        "optimizer": optimizer if isinstance(optimizer, str) else "custom",
        "steps": steps,
        "lr": lr,
        "gtol": gtol,
        "init": init if isinstance(init, str) else "array",
    }
    result = VQEResult(energies, params, final, exact, rel, config, wall)
    if out is not None:
        _write(out, "vqe", result, seed, f"VQE {type(model).__name__} N={n}, {ansatz} p={layers}")
    return result


def energy_of(model, params, *, ansatz: str = "hva", device="default.qubit", seed: int = 0):
    """``<psi(params)|H|psi(params)>`` of ``model`` on ``device`` (one evaluation).

    ``params`` must have the ansatz's shape (e.g. ``VQEResult.params``); ``device`` as in
    :func:`run_vqe` (a shot-based device made here without its own seed gets ``seed``).
    Returns a float (a sample mean with shots).
    """
    seed = check_positive_int("seed", seed, minimum=0)
    circuit = make_ansatz(ansatz, model)
    p = np.asarray(params, dtype=np.float64)
    layers = p.shape[0] if p.ndim else 0
    shape = circuit.shape(max(layers, 1), circuit.n_wires)
    if p.shape != shape:
        raise InvalidParameterError(f"params: expected shape {shape}; got {p.shape}")
    hamiltonian = model.to_pennylane()
    dev = _device(device, model.n_sites, seed)
    check_wires(hamiltonian, dev)

    @qml.qnode(dev)
    def energy(q):
        circuit(q)
        return qml.expval(hamiltonian)

    return float(energy(p))


def h2_hamiltonian(bond_length: float = 0.7414):
    """H2 in STO-3G at ``bond_length`` (Angstrom) as a 4-qubit PennyLane Hamiltonian.

    Built offline with PennyLane's differentiable Hartree-Fock (``method="dhf"``), Jordan-
    Wigner mapping; the nuclear repulsion is included. Returns ``(hamiltonian, n_qubits,
    n_electrons)``.
    """
    r = float(bond_length)
    if not math.isfinite(r) or r <= 0:
        raise InvalidParameterError(
            f"bond_length: expected a positive finite length in Angstrom; got {bond_length!r}"
        )
    coords = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, r]])
    molecule = qml.qchem.Molecule(["H", "H"], coords, unit="angstrom")
    hamiltonian, n_qubits = qml.qchem.molecular_hamiltonian(molecule, method="dhf")
    return hamiltonian, int(n_qubits), 2


def run_vqe_h2(
    bond_length: float = 0.7414,
    *,
    device="default.qubit",
    optimizer="lbfgs",
    steps: int = 50,
    lr: float = 0.1,
    gtol: float = 1e-9,
    out: str | Path | None = None,
) -> VQEResult:
    """VQE for H2 (STO-3G) with ``qml.AllSinglesDoubles`` from the Hartree-Fock state.

    The parameters start at zero (the HF energy). The exact energy is the lowest
    eigenvalue of the qubit Hamiltonian's sparse matrix (FCI in this basis).
    """
    from qml_phys.physics.exact import lanczos

    hamiltonian, n_qubits, n_electrons = h2_hamiltonian(bond_length)
    singles, doubles = qml.qchem.excitations(n_electrons, n_qubits)
    hf = qml.qchem.hf_state(n_electrons, n_qubits)
    dev = _device(device, n_qubits, 0)
    check_wires(hamiltonian, dev)
    method = diff_method_for(dev)

    @qml.qnode(dev, interface="jax", diff_method=method)
    def energy(p):
        qml.AllSinglesDoubles(
            p, wires=range(n_qubits), hf_state=hf, singles=singles, doubles=doubles
        )
        return qml.expval(hamiltonian)

    start = time.perf_counter()
    energies, params = minimize(
        energy,
        np.zeros(len(singles) + len(doubles)),
        optimizer=optimizer,
        steps=steps,
        lr=lr,
        gtol=gtol,
        jit=method in ("backprop", "adjoint"),
    )
    wall = time.perf_counter() - start
    exact = float(lanczos(hamiltonian.sparse_matrix(wire_order=range(n_qubits)))[0])
    final = float(energies[-1])
    config = {
        "molecule": "H2",
        "basis": "sto-3g",
        "bond_length_angstrom": float(bond_length),
        "ansatz": "AllSinglesDoubles",
        "device": str(device) if isinstance(device, (str, DeviceConfig)) else dev.name,
        "diff_method": method,
        "optimizer": optimizer if isinstance(optimizer, str) else "custom",
        "steps": steps,
        "lr": lr,
    }
    result = VQEResult(
        energies, params, final, exact, abs(final - exact) / abs(exact), config, wall
    )
    if out is not None:
        _write(out, "vqe_h2", result, 0, f"VQE H2 STO-3G, R = {bond_length} A")
    return result
