r"""QAOA for weighted MaxCut and other diagonal (Ising-type) cost functions.

The Quantum Approximate Optimization Algorithm (E. Farhi, J. Goldstone and S. Gutmann,
arXiv:1411.4028) prepares

.. math::

    |\gamma, \beta\rangle = U_B(\beta_p) U_C(\gamma_p) \cdots U_B(\beta_1) U_C(\gamma_1)
    |+\rangle^{\otimes n}

and maximises :math:`\langle C\rangle`.

Conventions (the one place they are written down)
-------------------------------------------------

* The **objective** is :math:`C = -H`, with :math:`H` the model's Hamiltonian built from its
  ``pauli_terms()`` (constant included). For :class:`~qml_phys.physics.models.MaxCut`,
  :math:`H = \sum_e w_e (Z_i Z_j - 1)/2`, so :math:`C = \sum_e w_e (1 - Z_i Z_j)/2` is the
  weighted cut (edge weights are used; PennyLane's ``qml.qaoa.maxcut`` ignores them).
* **Cost layer** :math:`U_C(\gamma) = e^{-i\gamma C} = e^{+i\gamma H}`: one gate per Pauli
  term :math:`c\,Z_{i_1}\cdots Z_{i_k}` of :math:`H`, ``qml.RZ(-2 gamma c)`` (k = 1),
  ``qml.IsingZZ(-2 gamma c)`` (k = 2), ``qml.MultiRZ(-2 gamma c)`` (k > 2); the constant is
  a global phase and is left out. A MaxCut edge of weight ``w`` is ``IsingZZ(-gamma w)``.
* **Mixer** :math:`U_B(\beta) = e^{-i\beta \sum_j X_j}` = ``qml.RX(2 beta)`` on every wire.
* **Angles** are a ``(2, p)`` array ``[gammas, betas]`` in radians.
* In this convention the optimal p = 1 angles of MaxCut on triangle-free 3-regular graphs
  are :math:`\gamma = \arctan(1/\sqrt2) \approx 0.6155`, :math:`\beta = \pi/8`, giving
  :math:`\langle C\rangle/|E| = 1/2 + 1/(3\sqrt3) \approx 0.6925`; these are the
  conventions of Wurtz & Lykov (PRA 104, 052419 (2021), arXiv:2107.00677), whose fixed
  angles (:data:`FIXED_ANGLES_3REG`) are used unchanged.
* **Approximation ratio** :math:`r = \langle C\rangle / C_{\max}`; :math:`C_{\max}` comes
  from :func:`qml_phys.physics.exact.reference`: the brute-force maximum cut for MaxCut,
  otherwise the maximum of :math:`-H` over all basis states (so :math:`r` is meaningful
  when :math:`C_{\max} > 0`).
* **Bitstrings** follow the package: wire 0 is the most significant bit and bit 0 is the
  spin ``+1``.

The angles are optimised by :func:`qml_phys.circuits.optimize.minimize` (optax on
PennyLane's JAX interface, in float64; L-BFGS by default), the same path as VQE. Exact
(statevector) runs use ``lightning.qubit`` with adjoint gradients by default; on a device
with shots (``"qiskit.aer:shots=10000"``) the expectation values are sampled.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import optax
import pennylane as qml

from qml_phys.circuits.devices import (
    check_circuit_size,
    device_shots,
    diff_method_for,
    make_device,
)
from qml_phys.circuits.mitigation import (
    MitigatedEnergy,
    ideal_energy,
    make_foldable_device,
    mitigated_energy,
)
from qml_phys.circuits.optimize import (
    OptimizerSettings,
    minimize,
    optimizer_name,
)
from qml_phys.classical.annealing import AnnealConfig, anneal
from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    TooLargeError,
    UnknownNameError,
    check_positive_int,
)
from qml_phys.physics.lattice import Graph
from qml_phys.physics.models import MAX_EXACT_SITES, MaxCut
from qml_phys.runtime.results import Result

__all__ = [
    "FIXED_ANGLES_3REG",
    "INITS",
    "AnnealComparison",
    "ComparisonConfig",
    "QAOAConfig",
    "QAOAResult",
    "compare_with_annealing",
    "cost_diagonal",
    "evaluate_qaoa",
    "expectation_fn",
    "fixed_angles",
    "interp_angles",
    "mitigate_qaoa",
    "p1_edge_expectation",
    "p1_maxcut_expectation",
    "qaoa_circuit",
    "run_qaoa",
    "sweep_depth",
]

#: Fixed angles for MaxCut on 3-regular graphs, ``{p: (gammas, betas)}``, from Wurtz & Lykov,
#: PRA 104, 052419 (2021), arXiv:2107.00677, Table I (tree-subgraph optima; guaranteed
#: ``<C>/|E|`` 0.6925, 0.7559, 0.7924, 0.8169 for graphs of girth > 2p + 1), in this
#: module's convention (checked numerically in the tests: p = 1 on a triangle-free graph,
#: p = 2 on the Heawood graph, girth 6).
FIXED_ANGLES_3REG: dict[int, tuple[tuple[float, ...], tuple[float, ...]]] = {
    1: ((0.616,), (0.393,)),
    2: ((0.488, 0.898), (0.555, 0.293)),
    3: ((0.422, 0.798, 0.937), (0.609, 0.459, 0.235)),
    4: ((0.409, 0.781, 0.988, 1.156), (0.600, 0.434, 0.297, 0.159)),
}

#: Initialisation names of :attr:`QAOAConfig.init` (or give ``angles`` to :func:`run_qaoa`).
INITS = ("fixed", "interp", "random")


# --------------------------------------------------------------------------- cost


def _as_model(model_or_graph):
    """A :class:`Graph` becomes ``MaxCut(graph)``; a model must have ``pauli_terms()``."""
    if isinstance(model_or_graph, Graph):
        return MaxCut(model_or_graph)
    if not hasattr(model_or_graph, "pauli_terms") or not hasattr(model_or_graph, "n_sites"):
        raise InvalidParameterError(
            "expected a diagonal model of qml_phys.physics.models (e.g. MaxCut(graph), "
            f"GraphIsing(graph)) or a Graph; got {type(model_or_graph).__name__}"
        )
    return model_or_graph


def _cost_terms(model) -> tuple[list[tuple[tuple[int, ...], float]], float]:
    """``([(sites, coeff), ...], constant)`` of the Z-strings of ``H``; raise if off-diagonal."""
    terms, constant = [], 0.0
    for paulis, sites, coeff in model.pauli_terms():
        if set(paulis) - {"Z"}:
            raise InvalidParameterError(
                "QAOA needs a diagonal cost Hamiltonian: expected only Z terms; got "
                f"{paulis!r} on sites {tuple(int(s) for s in sites)} with coefficient {coeff} "
                "(set the transverse field gamma to 0)"
            )
        if len(sites) == 0:
            constant += float(coeff)
        else:
            terms.append((tuple(int(s) for s in sites), float(coeff)))
    return terms, constant


def cost_diagonal(model) -> np.ndarray:
    r"""The objective :math:`C = -H` on every basis state, ``(2**n,)`` float64.

    Index ``b`` is the canonical basis of :mod:`qml_phys.physics.models` (site 0 is the most
    significant bit, bit 0 = spin ``+1``). Raises for off-diagonal models and
    ``n > MAX_EXACT_SITES``.
    """
    model = _as_model(model)
    n = model.n_sites
    if n > MAX_EXACT_SITES:
        raise TooLargeError(f"cost_diagonal: expected at most {MAX_EXACT_SITES} sites; got {n}")
    terms, constant = _cost_terms(model)
    idx = np.arange(1 << n, dtype=np.int64)
    h = np.full(1 << n, constant)
    for sites, coeff in terms:
        mask = sum(1 << (n - 1 - i) for i in sites)
        parity = (np.bitwise_count(idx & mask) & 1).astype(np.float64)  # uint8: cast first
        h += coeff * (1.0 - 2.0 * parity)
    return -h


def _c_max(model) -> float:
    """Maximum of the objective from :func:`qml_phys.physics.exact.reference`: the
    brute-force max cut for MaxCut, else minus the lowest energy over all basis states."""
    from qml_phys.physics.exact import reference

    ref = reference(model)
    if ref is None:
        raise TooLargeError(
            f"c_max: expected a model small enough for a brute-force optimum; got "
            f"{model.n_sites} sites (pass c_max if you know it)"
        )
    return float(ref["max_cut"]) if isinstance(model, MaxCut) else -float(ref["energy"])


# ------------------------------------------------------------------------- circuit


def _check_angles(angles, p: int | None = None) -> np.ndarray:
    a = np.asarray(angles, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != 2 or a.shape[1] < 1 or (p is not None and a.shape[1] != p):
        want = "(2, p)" if p is None else f"(2, {p})"
        raise ShapeError(f"angles: expected shape {want} = [gammas, betas]; got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InvalidParameterError(f"angles: expected finite numbers; got {a!r}")
    return a


def qaoa_circuit(model, n_layers: int):
    """The QAOA state preparation as a quantum function ``circuit(angles)``.

    Args:
        model: a diagonal model (``MaxCut``, ``GraphIsing`` with ``gamma = 0``, ...) or a
            :class:`Graph` (then ``MaxCut(graph)``).
        n_layers: the depth ``p`` (>= 1).

    Returns:
        ``circuit(angles)`` applying ``H^{⊗n}`` and ``p`` layers ``U_B(beta_k) U_C(gamma_k)``
        on wires ``0 .. n-1``; ``angles`` is ``(2, p)`` = ``[gammas, betas]`` (radians).
        See the module docstring for the gate conventions.
    """
    model = _as_model(model)
    p = check_positive_int("n_layers", n_layers, minimum=1)
    terms, _ = _cost_terms(model)
    n = model.n_sites

    def circuit(angles):
        if tuple(np.shape(angles)) != (2, p):
            raise ShapeError(
                f"angles: expected shape (2, {p}) = [gammas, betas]; got {np.shape(angles)}"
            )
        for w in range(n):
            qml.Hadamard(wires=w)
        for k in range(p):
            gamma, beta = angles[0][k], angles[1][k]
            for sites, coeff in terms:
                theta = -2.0 * coeff * gamma
                if len(sites) == 1:
                    qml.RZ(theta, wires=sites[0])
                elif len(sites) == 2:
                    qml.IsingZZ(theta, wires=sites)
                else:
                    qml.MultiRZ(theta, wires=sites)
            for w in range(n):
                qml.RX(2.0 * beta, wires=w)

    return circuit


def _energy_qnode(model, p: int, dev):
    """``angles -> <H'>`` with ``H'`` the model's Z strings without the constant (the cost
    :func:`run_qaoa` minimises: ``<C> = -(<H'> + constant)``); ``None`` without terms."""
    terms, _ = _cost_terms(model)
    if not terms:
        return None
    circuit = qaoa_circuit(model, p)
    obs = [
        qml.prod(*(qml.PauliZ(i) for i in s)) if len(s) > 1 else qml.PauliZ(s[0]) for s, _ in terms
    ]
    hamiltonian = qml.Hamiltonian([c for _, c in terms], obs)

    @qml.qnode(dev, interface="auto", diff_method=diff_method_for(dev))
    def energy(angles):
        circuit(angles)
        return qml.expval(hamiltonian)

    return energy


def expectation_fn(model, n_layers: int, device="lightning.qubit", *, key=None):
    r"""``f(angles) -> <C>``, the QAOA objective as a differentiable function.

    ``<C> = -<H>`` includes the model's constant (for MaxCut it is the expected weighted
    cut). ``angles`` is a ``(2, p)`` array. The QNode inside uses PennyLane's ``"auto"``
    interface (differentiate with ``jax.grad`` on a JAX array, or ``qml.grad`` on a
    ``pennylane.numpy`` array with ``requires_grad=True``) and the best gradient method of
    the device (:func:`~qml_phys.circuits.devices.diff_method_for`: adjoint on
    ``lightning.qubit``).

    Args:
        model: a diagonal model or a :class:`Graph`.
        n_layers: the depth ``p``.
        device: a device name or ``"name:shots=..:seed=.."`` string, a
            :class:`~qml_phys.circuits.devices.DeviceConfig` or a PennyLane device on at
            least ``n`` wires.
        key: JAX PRNG key of the sampling seed of a shot-based device given without one.
    """
    model = _as_model(model)
    p = check_positive_int("n_layers", n_layers, minimum=1)
    _, constant = _cost_terms(model)
    energy = _energy_qnode(model, p, make_device(device, model.n_sites, key=key))
    if energy is None:
        return lambda angles: -constant

    def f(angles):
        return -(energy(angles) + constant)

    f.qnode = energy
    return f


def _probs_fn(model, p, dev):
    circuit = qaoa_circuit(model, p)

    @qml.qnode(dev, interface=None, diff_method=None)
    def probs(angles):
        circuit(angles)
        return qml.probs(wires=range(model.n_sites))

    return probs


# ---------------------------------------------------------------- analytic p = 1


def p1_edge_expectation(gamma, beta, deg_u: int, deg_v: int, triangles: int = 0):
    r"""Exact p = 1 expectation of one unweighted MaxCut edge, <(1 - Z_u Z_v)/2>.

    Z. Wang, S. Hadfield, Z. Jiang and E. G. Rieffel, PRA 97, 022304 (2018),
    arXiv:1706.02998, Theorem 1, with :math:`d = \deg u - 1`, :math:`e = \deg v - 1` and
    :math:`f` the number of triangles containing the edge:

    .. math::

        \tfrac12 + \tfrac14 \sin 4\beta \sin\gamma (\cos^d\gamma + \cos^e\gamma)
        - \tfrac14 \sin^2 2\beta \cos^{d+e-2f}\gamma (1 - \cos^f 2\gamma)

    in this module's convention (:math:`U_C = e^{-i\gamma C}`, :math:`U_B = e^{-i\beta\sum X}`).
    Broadcasts over ``gamma`` and ``beta``.
    """
    deg_u = check_positive_int("deg_u", deg_u, minimum=1)
    deg_v = check_positive_int("deg_v", deg_v, minimum=1)
    f = check_positive_int("triangles", triangles, minimum=0)
    d, e = deg_u - 1, deg_v - 1
    if f > min(d, e):
        raise InvalidParameterError(
            f"triangles: expected at most min(deg_u, deg_v) - 1 = {min(d, e)}; got {f}"
        )
    g, b = np.asarray(gamma, np.float64), np.asarray(beta, np.float64)
    cg = np.cos(g)
    term1 = 0.25 * np.sin(4 * b) * np.sin(g) * (cg**d + cg**e)
    term2 = 0.25 * np.sin(2 * b) ** 2 * cg ** (d + e - 2 * f) * (1 - np.cos(2 * g) ** f)
    return 0.5 + term1 - term2


def p1_maxcut_expectation(graph: Graph, gamma, beta):
    """Exact p = 1 ``<cut>`` of an unweighted graph: :func:`p1_edge_expectation` summed."""
    if not isinstance(graph, Graph):
        raise InvalidParameterError(f"expected a Graph; got {type(graph).__name__}")
    if not np.all(graph.weights == 1.0):
        raise InvalidParameterError(
            "p1_maxcut_expectation: expected unit edge weights (the formula of Wang et al. is "
            "for unweighted graphs); got weights other than 1"
        )
    n = graph.n_nodes
    adj = [set() for _ in range(n)]
    for i, j in graph.edges:
        adj[i].add(int(j))
        adj[j].add(int(i))
    pairs = {tuple(sorted(map(int, e))) for e in graph.edges}
    if len(pairs) != graph.n_edges:
        raise InvalidParameterError(
            "p1_maxcut_expectation: expected a simple graph; got repeated edges"
        )
    total = 0.0
    for i, j in graph.edges:
        total = total + p1_edge_expectation(
            gamma, beta, len(adj[i]), len(adj[j]), len(adj[i] & adj[j])
        )
    return total


# ------------------------------------------------------------------ initialisation


def fixed_angles(p: int) -> np.ndarray:
    """Wurtz-Lykov fixed angles for 3-regular MaxCut, ``(2, p)`` (see :data:`FIXED_ANGLES_3REG`)."""
    p = check_positive_int("p", p, minimum=1)
    if p not in FIXED_ANGLES_3REG:
        raise InvalidParameterError(
            f"fixed angles: expected p in 1..{max(FIXED_ANGLES_3REG)}; got p={p} "
            "(use angles=interp_angles(...) from a smaller p, as sweep_depth does)"
        )
    return np.array(FIXED_ANGLES_3REG[p], dtype=np.float64)


def interp_angles(angles) -> np.ndarray:
    r"""INTERP initialisation from depth p to p + 1 (L. Zhou et al., PRX 10, 021067 (2020),
    arXiv:1812.01041, eq. (B1)): for :math:`i = 1 \ldots p+1`,

    .. math:: x'_i = \frac{i-1}{p} x_{i-1} + \frac{p-i+1}{p} x_i, \qquad x_0 = x_{p+1} = 0,

    applied to the gammas and the betas. ``angles`` ``(2, p)`` -> ``(2, p + 1)``.
    """
    a = _check_angles(angles)
    p = a.shape[1]
    padded = np.concatenate([np.zeros((2, 1)), a, np.zeros((2, 1))], axis=1)
    i = np.arange(1, p + 2)
    return (i - 1) / p * padded[:, i - 1] + (p - i + 1) / p * padded[:, i]


def _random_angles(p: int, key) -> np.ndarray:
    """Gammas uniform in ``[0, pi/2)`` and betas in ``[0, pi/4)``, ``(2, p)`` float64."""
    import jax

    from qml_phys.runtime.precision import float64

    with float64():
        u = np.asarray(jax.random.uniform(key, (2, p), dtype=jax.numpy.float64))
    return u * np.array([[np.pi / 2], [np.pi / 4]])


# -------------------------------------------------------------------------- config


@dataclasses.dataclass(frozen=True, kw_only=True)
class QAOAConfig(OptimizerSettings):
    """How :func:`run_qaoa` runs (the model and the device are its arguments)."""

    n_layers: int = 1
    """The QAOA depth ``p`` (>= 1)."""
    init: str = "fixed"
    """``"fixed"`` (Wurtz-Lykov 3-regular angles, ``p <= 4``) or ``"random"`` (gammas in
    ``[0, pi/2)``, betas in ``[0, pi/4)``, from the key); ``"interp"`` needs the angles of
    depth ``p - 1`` (:func:`sweep_depth`, or ``run_qaoa(..., angles=interp_angles(a))``)."""
    optimizer: str | optax.GradientTransformation = "auto"
    """``"auto"`` (default): ``"lbfgs"`` on an analytic device, ``"adam"`` on a shot-based
    one, where a line search chases shot noise (n = 4, p = 1, 1000 shots: L-BFGS spent 2628
    evaluations and 167 s without converging; Adam's 200 steps reach the same angles in
    13 s). Or ``"lbfgs"``, ``"adam"``, ``"qng"`` or an ``optax.GradientTransformation``
    (:func:`~qml_phys.circuits.optimize.minimize`). The result's ``config`` names the one
    that ran."""
    gtol: float = 1e-7
    """Converged when the gradient's 2-norm falls below this (cut units per radian). With
    shots the sampled gradient does not fall below its shot noise, so a run spends its
    ``n_steps`` and says ``not_converged``: its precision is ``expectation_error``."""

    def __post_init__(self):
        object.__setattr__(self, "n_layers", check_positive_int("n_layers", self.n_layers))
        if self.init not in INITS:
            raise UnknownNameError(
                f"init: expected one of {', '.join(INITS)} or run_qaoa's angles=array; got "
                f"{self.init!r}"
            )
        self.for_shots(None).minimize_config  # noqa: B018 - validates the optimiser settings

    def for_shots(self, shots: int | None) -> QAOAConfig:
        """This config with ``optimizer="auto"`` resolved for a device with ``shots``
        (``None``: analytic); any other optimiser is kept."""
        if not (isinstance(self.optimizer, str) and self.optimizer == "auto"):
            return self
        return dataclasses.replace(self, optimizer="lbfgs" if shots is None else "adam")


def _initial_angles(config: QAOAConfig, angles, key) -> np.ndarray:
    p = config.n_layers
    if angles is not None:
        return _check_angles(angles, p)
    if config.init == "fixed":
        return fixed_angles(p)
    if config.init == "random":
        if key is None:
            raise InvalidParameterError("key: expected a JAX PRNG key for init='random'; got None")
        return _random_angles(p, key)
    raise InvalidParameterError(
        "init='interp' needs the optimised angles of depth p - 1: expected sweep_depth(...) "
        "or angles=interp_angles(previous.angles); got init='interp' and no angles"
    )


# -------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, kw_only=True)
class QAOAResult(Result):
    """Result of :func:`run_qaoa` / :func:`evaluate_qaoa`.

    ``history["expectation"]`` and ``history["grad_norm"]`` are ``(iterations,)`` float64:
    ``<C>`` and the gradient's 2-norm before each optimiser step (empty for
    :func:`evaluate_qaoa`). ``status`` is ``"converged"`` (gradient norm below ``gtol``),
    ``"not_converged"`` (step budget spent) or ``"completed"`` (evaluated only).
    """

    angles: np.ndarray
    """``(2, p)`` float64 ``[gammas, betas]`` (optimised, or as evaluated), radians."""
    expectation: float
    """``<C>`` at ``angles`` (for MaxCut: the expected weighted cut); with shots the mean
    over the shots that also give ``most_probable_probability``."""
    c_max: float
    """Maximum of ``C`` (the brute-force max cut for MaxCut)."""
    approximation_ratio: float
    """``expectation / c_max`` (nan when ``c_max <= 0``)."""
    most_probable: np.ndarray
    """``(n,)`` int8 spins in {-1,+1} of the most probable bitstring."""
    most_probable_value: float
    """``C`` of that bitstring (its cut for MaxCut)."""
    most_probable_probability: float
    """Its probability (estimated with shots)."""
    n_evaluations: int
    """Objective-and-gradient evaluations (line-search trials included) plus the final one."""
    expectation_error: float | None = None
    """Shot standard error of ``expectation`` (the cut's sample standard deviation over
    ``sqrt(shots)``); ``None`` on an analytic device."""

    @property
    def p(self) -> int:
        """The depth (number of layers)."""
        return int(self.angles.shape[1])

    @property
    def gammas(self) -> np.ndarray:
        return self.angles[0]

    @property
    def betas(self) -> np.ndarray:
        return self.angles[1]

    @property
    def expectations(self) -> np.ndarray:
        """``(iterations + 1,)`` float64: ``<C>`` before each step, then at the end."""
        return np.append(self.history.get("expectation", np.zeros(0)), self.expectation)

    @property
    def converged(self) -> bool:
        """The gradient norm fell below ``gtol``."""
        return self.status == "converged"

    @property
    def most_probable_bitstring(self) -> str:
        """The most probable basis state as bits, wire 0 first (``"1"`` = spin ``-1``)."""
        return "".join("1" if s < 0 else "0" for s in self.most_probable)

    reported = (
        "p",
        "expectation",
        "expectation_error",
        "c_max",
        "approximation_ratio",
        "most_probable_bitstring",
        "most_probable_value",
        "most_probable_probability",
        "converged",
        "n_evaluations",
    )

    def config_summary(self) -> dict:
        """The config's fields, the optimiser by its name."""
        out = super().config_summary()
        if isinstance(self.config, QAOAConfig):
            out["optimizer"] = optimizer_name(self.config.optimizer)
        return out

    def summary(self) -> dict:
        """JSON-able numbers: angles, expectation, ratio, most probable bitstring."""
        return super().summary() | {"gammas": self.gammas.tolist(), "betas": self.betas.tolist()}


def _ratio(value, best) -> float:
    """``value / best``; nan when the optimum is not positive (e.g. MaxCut with only
    negative weights, whose best cut is the empty one), where a ratio means nothing."""
    return float(value) / float(best) if float(best) > 0 else math.nan


def _result(model, angles, expectation, dev, c_max, **fields) -> QAOAResult:
    """The result at ``angles`` from the basis-state probabilities measured there. On a
    shot-based device they are the frequencies of its shots, and ``<C>`` and its shot
    standard error are those of the same samples (``expectation``, the optimiser's last
    value or ``None``, is then replaced)."""
    p = angles.shape[1]
    probs = np.asarray(_probs_fn(model, p, dev)(angles), np.float64)
    values = cost_diagonal(model)  # C on every basis state, the order of probs
    error, shots = None, device_shots(dev)
    if shots is not None:
        expectation = float(probs @ values)
        var = max(float(probs @ values**2) - expectation**2, 0.0)
        error = math.sqrt(var / (shots - 1)) if shots > 1 else math.inf
    b = int(np.argmax(probs))
    n = model.n_sites
    spins = (1 - 2 * ((b >> np.arange(n - 1, -1, -1)) & 1)).astype(np.int8)
    return QAOAResult(
        angles=np.asarray(angles, np.float64),
        expectation=float(expectation),
        expectation_error=error,
        c_max=float(c_max),
        approximation_ratio=_ratio(expectation, c_max),
        most_probable=spins,
        most_probable_value=float(values[b]),
        most_probable_probability=float(probs[b]),
        **fields,
    )


def evaluate_qaoa(model, angles, *, device="lightning.qubit", key=None, c_max=None) -> QAOAResult:
    """QAOA at given ``angles`` ``(2, p)`` without optimisation (e.g. sampled on Aer).

    ``device`` as in :func:`expectation_fn`; ``key`` seeds a shot-based device given
    without a seed (required then); ``c_max`` may be passed to skip the brute-force search.
    """
    t0 = time.perf_counter()
    model = _as_model(model)
    a = _check_angles(angles)
    dev = make_device(device, model.n_sites, key=key)
    value = None if device_shots(dev) else float(expectation_fn(model, a.shape[1], dev)(a))
    c_max = _c_max(model) if c_max is None else float(c_max)
    return _result(
        model,
        a,
        value,
        dev,
        c_max,
        config={"n_layers": a.shape[1], "device": str(device)},
        n_evaluations=1,
        wall_time_s=time.perf_counter() - t0,
    )


def run_qaoa(
    model,
    config: QAOAConfig = QAOAConfig(),
    *,
    key=None,
    device="lightning.qubit",
    angles=None,
    c_max: float | None = None,
) -> QAOAResult:
    """Optimise the QAOA angles of ``model`` at depth ``config.n_layers``.

    Maximises ``<C>`` by minimising ``<H>`` with
    :func:`~qml_phys.circuits.optimize.minimize` (one compiled optimisation step; the
    device runs on the host unless it differentiates by backpropagation).

    Args:
        model: a diagonal model (``MaxCut(graph)``, ``GraphIsing(graph)`` with
            ``gamma = 0``) or a :class:`Graph` (then ``MaxCut(graph)``).
        config: :class:`QAOAConfig`.
        key: JAX PRNG key of ``init="random"`` and of the sampling seed of a shot-based
            device given without one; needed only then.
        device: device name or spec string (``"qiskit.aer:shots=10000"``; gradients then
            by parameter shift), :class:`~qml_phys.circuits.devices.DeviceConfig` or
            PennyLane device; default ``lightning.qubit`` (adjoint).
        angles: ``(2, p)`` starting angles (e.g. :func:`interp_angles` of a depth
            ``p - 1`` result; :func:`sweep_depth` does that) instead of ``config.init``.
        c_max: the optimum of ``C`` if known (skips the brute-force search).
    """
    import jax

    t0 = time.perf_counter()
    if not isinstance(config, QAOAConfig):
        raise InvalidParameterError(f"config: expected a QAOAConfig; got {type(config).__name__}")
    model = _as_model(model)
    p = config.n_layers
    terms, constant = _cost_terms(model)
    check_circuit_size(p * (len(terms) + model.n_sites), f"a depth-{p} QAOA circuit")
    k_init, k_device = (None, None) if key is None else jax.random.split(key)
    x0 = _initial_angles(config, angles, k_init)
    dev = make_foldable_device(device, model.n_sites, key=k_device)  # Aer: gate by gate
    config = config.for_shots(device_shots(dev))
    energy = _energy_qnode(model, p, dev)
    if energy is None:  # no terms: C is the constant everywhere

        def energy(x):
            return 0.0 * jax.numpy.sum(x)

    found = minimize(energy, x0, config.minimize_config)
    c_max = _c_max(model) if c_max is None else float(c_max)
    return _result(
        model,
        found.params,
        -(found.value + constant),
        dev,
        c_max,
        config=config,
        history={"expectation": -(found.values + constant), "grad_norm": found.grad_norms},
        status="converged" if found.converged else "not_converged",
        n_evaluations=found.n_evaluations,
        wall_time_s=time.perf_counter() - t0,
    )


def sweep_depth(
    model,
    depths=(1, 2, 3),
    config: QAOAConfig = QAOAConfig(),
    *,
    key=None,
    device="lightning.qubit",
    c_max: float | None = None,
) -> list[QAOAResult]:
    """:func:`run_qaoa` at increasing depths, each started by INTERP from the previous one.

    The first depth starts from ``config.init``; depth ``depths[k+1]`` starts from
    :func:`interp_angles` applied ``depths[k+1] - depths[k]`` times to the optimum of
    ``depths[k]`` (Zhou et al., arXiv:1812.01041). ``depths`` must be strictly increasing;
    ``config.n_layers`` is replaced by each depth. The brute-force optimum is computed once;
    each depth gets its own key from ``key`` (split).
    """
    import jax

    depths = [check_positive_int("n_layers", p, minimum=1) for p in depths]
    if not depths or any(b <= a for a, b in zip(depths, depths[1:], strict=False)):
        raise InvalidParameterError(
            f"depths: expected a strictly increasing list of depths; got {depths}"
        )
    model = _as_model(model)
    c_max = _c_max(model) if c_max is None else float(c_max)
    keys = [None] * len(depths) if key is None else list(jax.random.split(key, len(depths)))
    first = dataclasses.replace(config, n_layers=depths[0])
    run = {"device": device, "c_max": c_max}
    results = [run_qaoa(model, first, key=keys[0], **run)]
    for p, k in zip(depths[1:], keys[1:], strict=True):
        x = results[-1].angles
        while x.shape[1] < p:
            x = interp_angles(x)
        step = dataclasses.replace(config, n_layers=p, init="fixed")
        results.append(run_qaoa(model, step, key=k, angles=x, **run))
    return results


# ------------------------------------------------------------------------ annealing


@dataclasses.dataclass(frozen=True, kw_only=True)
class ComparisonConfig:
    """Settings of :func:`compare_with_annealing`."""

    qaoa: QAOAConfig = QAOAConfig()
    """The QAOA run."""
    annealing: AnnealConfig = AnnealConfig()
    """The simulated annealing run (:func:`qml_phys.classical.annealing.anneal`)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnnealComparison(Result):
    """Result of :func:`compare_with_annealing` (``config``: the :class:`ComparisonConfig`)."""

    maxcut: float
    """Brute-force maximum cut (:func:`qml_phys.physics.exact.reference`)."""
    sa_cut: float
    """Best cut found by simulated annealing."""
    sa_ratio: float
    """``sa_cut / maxcut`` (nan when ``maxcut <= 0``, as for every ratio here)."""
    qaoa_ratio: float
    """QAOA ``<cut> / maxcut`` at the optimised angles."""
    qaoa_best_ratio: float
    """Cut of QAOA's most probable bitstring / maxcut."""
    qaoa: QAOAResult
    """The QAOA run."""
    sa_spins: np.ndarray
    """``(n,)`` int8 SA's best assignment."""

    reported = ("maxcut", "sa_cut", "sa_ratio", "qaoa_ratio", "qaoa_best_ratio")

    def config_summary(self) -> dict:
        """The config's fields, the QAOA optimiser by its name."""
        out = super().config_summary()
        out["qaoa"]["optimizer"] = optimizer_name(self.config.qaoa.optimizer)
        return out

    def summary(self) -> dict:
        """The cuts and ratios of both methods, and the QAOA run's summary."""
        return super().summary() | {"qaoa": self.qaoa.summary()}


def compare_with_annealing(
    graph, config: ComparisonConfig = ComparisonConfig(), *, key, device="lightning.qubit"
) -> AnnealComparison:
    """Solve MaxCut of ``graph`` by QAOA (:func:`run_qaoa`) and by simulated annealing
    (:func:`qml_phys.classical.annealing.anneal`) and compare both to the brute-force
    optimum.

    Args:
        graph: a :class:`Graph` or a ``MaxCut`` model.
        config: :class:`ComparisonConfig` (default: p = 1 from fixed angles; 1000 sweeps,
            16 restarts).
        key: JAX PRNG key, split between the annealing and QAOA.
        device: QAOA's device (as in :func:`run_qaoa`).
    """
    import jax

    t0 = time.perf_counter()
    if not isinstance(config, ComparisonConfig):
        raise InvalidParameterError(
            f"config: expected a ComparisonConfig; got {type(config).__name__}"
        )
    model = _as_model(graph)
    if not isinstance(model, MaxCut):
        raise InvalidParameterError(
            f"compare_with_annealing: expected a Graph or a MaxCut model; got "
            f"{type(model).__name__}"
        )
    k_sa, k_qaoa = jax.random.split(key)
    maxcut = _c_max(model)
    sa = anneal(model, config.annealing, key=k_sa)
    sa_cut = -float(sa.best_energy) + 0.0  # no negative zero
    q = run_qaoa(model, config.qaoa, key=k_qaoa, device=device, c_max=maxcut)
    return AnnealComparison(
        config=dataclasses.replace(config, qaoa=q.config),  # the optimiser that ran
        wall_time_s=time.perf_counter() - t0,
        maxcut=maxcut,
        sa_cut=sa_cut,
        sa_ratio=_ratio(sa_cut, maxcut),
        qaoa_ratio=q.approximation_ratio,
        qaoa_best_ratio=_ratio(q.most_probable_value, maxcut),
        qaoa=q,
        sa_spins=np.asarray(sa.best_spins),
    )


def mitigate_qaoa(model, angles, config=None, *, device, key=None) -> MitigatedEnergy:
    """Raw and error-mitigated energy of the QAOA state with ``angles`` ``(2, p)``
    (:func:`qml_phys.circuits.mitigation.mitigated_energy` with a
    :class:`~qml_phys.circuits.mitigation.MitigationConfig`) for a diagonal ``model``
    (``MaxCut(graph)``, or a :class:`Graph`): energies of its ``H``, so the expected cut is
    ``-E``; the noiseless value is ``ideal_energy`` and ``-C_max`` is ``exact_energy``."""
    model = _as_model(model)
    a = _check_angles(angles)
    circuit = qaoa_circuit(model, a.shape[1])
    hamiltonian = model.to_pennylane()
    out = mitigated_energy(circuit, a, hamiltonian, device, config, key=key)
    return dataclasses.replace(
        out,
        ideal_energy=ideal_energy(circuit, a, hamiltonian, model.n_sites),
        exact_energy=-_c_max(model),
    )
