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
* **Approximation ratio** :math:`r = \langle C\rangle / C_{\max}`; for MaxCut
  :math:`C_{\max}` is the brute-force maximum cut
  (:func:`~qml_phys.physics.exact.maxcut_brute_force`), otherwise the maximum of
  :math:`-H` over all basis states (so :math:`r` is meaningful when :math:`C_{\max} > 0`).
* **Bitstrings** follow the package: wire 0 is the most significant bit and bit 0 is the
  spin ``+1``.

Exact (statevector) runs use ``lightning.qubit`` with adjoint gradients by default; with
``shots`` the expectation values are sampled (e.g. on ``qiskit.aer``).
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np
import pennylane as qml
import pennylane.numpy as pnp
import scipy.optimize

from qml_phys.circuits.devices import diff_method_for, get_device
from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    TooLargeError,
    UnknownNameError,
    check_positive_int,
)
from qml_phys.physics.exact import maxcut_brute_force
from qml_phys.physics.lattice import Graph
from qml_phys.physics.models import MAX_EXACT_SITES, MaxCut

__all__ = [
    "FIXED_ANGLES_3REG",
    "INITS",
    "OPTIMIZERS",
    "AnnealComparison",
    "QAOAResult",
    "compare_with_annealing",
    "cost_diagonal",
    "evaluate_qaoa",
    "expectation_fn",
    "fixed_angles",
    "interp_angles",
    "p1_edge_expectation",
    "p1_maxcut_expectation",
    "qaoa_circuit",
    "random_regular_graph",
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

#: Initialisation names accepted by :func:`run_qaoa` (or give a ``(2, p)`` array).
INITS = ("fixed", "interp", "random")

#: Optimiser names accepted by :func:`run_qaoa`.
OPTIMIZERS = ("lbfgs", "adam")


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
    """Maximum of the objective: brute-force MaxCut, or the max of ``-H`` over all states."""
    if isinstance(model, MaxCut):
        return maxcut_brute_force(model.graph)[0]
    return float(np.max(cost_diagonal(model)))


# ------------------------------------------------------------------------- circuit


def _check_p(p) -> int:
    return check_positive_int("p", p, minimum=1)


def _check_angles(angles, p: int | None = None) -> np.ndarray:
    a = np.asarray(angles, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != 2 or a.shape[1] < 1 or (p is not None and a.shape[1] != p):
        want = "(2, p)" if p is None else f"(2, {p})"
        raise ShapeError(f"angles: expected shape {want} = [gammas, betas]; got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InvalidParameterError(f"angles: expected finite numbers; got {a!r}")
    return a


def qaoa_circuit(model, p: int):
    """The QAOA state preparation as a quantum function ``circuit(angles)``.

    Args:
        model: a diagonal model (``MaxCut``, ``GraphIsing`` with ``gamma = 0``, ...) or a
            :class:`Graph` (then ``MaxCut(graph)``).
        p: number of layers (>= 1).

    Returns:
        ``circuit(angles)`` applying ``H^{⊗n}`` and ``p`` layers ``U_B(beta_k) U_C(gamma_k)``
        on wires ``0 .. n-1``; ``angles`` is ``(2, p)`` = ``[gammas, betas]`` (radians).
        See the module docstring for the gate conventions.
    """
    model = _as_model(model)
    p = _check_p(p)
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


def _objective_hamiltonian(terms):
    coeffs = [-c for _, c in terms]
    obs = [
        qml.prod(*(qml.PauliZ(i) for i in s)) if len(s) > 1 else qml.PauliZ(s[0]) for s, _ in terms
    ]
    return qml.Hamiltonian(coeffs, obs)


def _device(model, device, shots, seed):
    if isinstance(device, str):
        return get_device(device, wires=model.n_sites, shots=shots, seed=seed)
    if shots is not None or seed is not None:
        raise InvalidParameterError(
            "shots/seed: expected them only with a device name (a device object carries its "
            f"own); got shots={shots!r}, seed={seed!r} with a {type(device).__name__}"
        )
    return device


def expectation_fn(model, p: int, device="lightning.qubit", *, shots=None, seed=None):
    r"""``f(angles) -> <C>``, the QAOA objective as a differentiable QNode.

    ``<C> = -<H>`` includes the model's constant (for MaxCut it is the expected weighted
    cut). ``angles`` is a ``(2, p)`` array; the QNode uses the autograd interface (pass a
    ``pennylane.numpy`` array with ``requires_grad=True`` to differentiate) and the best
    gradient method of the device (:func:`~qml_phys.circuits.devices.diff_method_for`:
    adjoint on ``lightning.qubit``).

    Args:
        model: a diagonal model or a :class:`Graph`.
        p: number of layers.
        device: a device name (see :func:`~qml_phys.circuits.devices.get_device`) or a
            PennyLane device on at least ``n`` wires.
        shots, seed: with a device name: ``None`` for exact values, or samples and the
            sampler's seed.
    """
    model = _as_model(model)
    circuit = qaoa_circuit(model, p)
    terms, constant = _cost_terms(model)
    dev = _device(model, device, shots, seed)
    if not terms:
        return lambda angles: -constant
    obs = _objective_hamiltonian(terms)

    @qml.qnode(dev, interface="autograd", diff_method=diff_method_for(dev))
    def qnode(angles):
        circuit(angles)
        return qml.expval(obs)

    def f(angles):
        return qnode(angles) - constant

    f.qnode = qnode
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
    p = _check_p(p)
    if p not in FIXED_ANGLES_3REG:
        raise InvalidParameterError(
            f"fixed angles: expected p in 1..{max(FIXED_ANGLES_3REG)}; got p={p} "
            "(use init='interp' from a smaller p)"
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


def _initial_angles(init, p, rng) -> np.ndarray:
    if isinstance(init, str):
        if init == "fixed":
            return fixed_angles(p)
        if init == "random":
            return np.stack([rng.uniform(0, np.pi / 2, p), rng.uniform(0, np.pi / 4, p)])
        if init == "interp":
            raise InvalidParameterError(
                "init='interp' needs the optimised angles of depth p - 1: expected "
                "sweep_depth(...) or init=interp_angles(previous.angles); got init='interp' "
                "in run_qaoa"
            )
        raise UnknownNameError(
            f"init: expected one of {', '.join(INITS)} or an array; got {init!r}"
        )
    return _check_angles(init, p)


# -------------------------------------------------------------------------- results


class QAOAResult(NamedTuple):
    """Result of :func:`run_qaoa` / :func:`evaluate_qaoa`.

    Attributes:
        p: number of layers.
        angles: ``(2, p)`` float64 ``[gammas, betas]`` (optimised, or as evaluated).
        expectation: ``<C>`` at ``angles`` (for MaxCut: expected weighted cut); sampled if
            ``shots`` was given.
        c_max: maximum of ``C`` (brute-force MaxCut for MaxCut).
        approximation_ratio: ``expectation / c_max``.
        most_probable: ``(n,)`` int8 spins in {-1,+1} of the most probable bitstring.
        most_probable_value: ``C`` of that bitstring (its cut for MaxCut).
        most_probable_probability: its probability (estimated with shots).
        history: ``(n_steps + 1,)`` float64 ``<C>`` along the optimisation (initial first).
        n_evaluations: objective evaluations used.
        wall_time: seconds spent.
    """

    p: int
    angles: np.ndarray
    expectation: float
    c_max: float
    approximation_ratio: float
    most_probable: np.ndarray
    most_probable_value: float
    most_probable_probability: float
    history: np.ndarray
    n_evaluations: int
    wall_time: float

    @property
    def gammas(self) -> np.ndarray:
        return self.angles[0]

    @property
    def betas(self) -> np.ndarray:
        return self.angles[1]


def _ratio(value, best) -> float:
    """``value / best``; nan when the optimum is not positive (e.g. MaxCut with only
    negative weights, whose best cut is the empty one), where a ratio means nothing."""
    return float(value) / float(best) if float(best) > 0 else math.nan


def _summarise(model, p, angles, expectation, dev, c_max, history, n_eval, t0) -> QAOAResult:
    probs = np.asarray(_probs_fn(model, p, dev)(angles), np.float64)
    b = int(np.argmax(probs))
    n = model.n_sites
    spins = (1 - 2 * ((b >> np.arange(n - 1, -1, -1)) & 1)).astype(np.int8)
    terms, constant = _cost_terms(model)
    value = -constant - sum(c * float(np.prod(spins[list(s)])) for s, c in terms)
    return QAOAResult(
        p=p,
        angles=np.asarray(angles, np.float64),
        expectation=float(expectation),
        c_max=float(c_max),
        approximation_ratio=_ratio(expectation, c_max),
        most_probable=spins,
        most_probable_value=float(value),
        most_probable_probability=float(probs[b]),
        history=np.asarray(history, np.float64),
        n_evaluations=int(n_eval),
        wall_time=time.perf_counter() - t0,
    )


def evaluate_qaoa(
    model, angles, *, device="lightning.qubit", shots=None, seed=None, c_max=None
) -> QAOAResult:
    """QAOA at given ``angles`` ``(2, p)`` without optimisation (e.g. sampled on Aer).

    ``c_max`` may be passed to skip the brute-force search.
    """
    t0 = time.perf_counter()
    model = _as_model(model)
    a = _check_angles(angles)
    p = a.shape[1]
    dev = _device(model, device, shots, seed)
    value = float(expectation_fn(model, p, dev)(a))
    c_max = _c_max(model) if c_max is None else float(c_max)
    return _summarise(model, p, a, value, dev, c_max, [value], 1, t0)


def run_qaoa(
    model,
    *,
    p: int,
    device="lightning.qubit",
    init="fixed",
    optimizer: str = "lbfgs",
    steps: int = 200,
    learning_rate: float = 0.05,
    seed: int = 0,
    shots: int | None = None,
    c_max: float | None = None,
) -> QAOAResult:
    """Optimise the QAOA angles of ``model`` at depth ``p``.

    Args:
        model: a diagonal model (``MaxCut(graph)``, ``GraphIsing(graph)`` with
            ``gamma = 0``) or a :class:`Graph` (then ``MaxCut(graph)``).
        p: number of layers (>= 1).
        device: device name or PennyLane device; default ``lightning.qubit`` (adjoint).
        init: ``"fixed"`` (Wurtz-Lykov 3-regular angles, p <= 4), ``"random"`` (gammas in
            [0, pi/2), betas in [0, pi/4), from ``seed``) or a ``(2, p)`` array (e.g.
            :func:`interp_angles` of a depth p - 1 result; :func:`sweep_depth` does that).
        optimizer: ``"lbfgs"`` (SciPy L-BFGS-B with exact gradients, at most ``steps``
            iterations) or ``"adam"`` (``optax.adam(learning_rate)``, ``steps`` steps).
        steps: iteration limit; 0 evaluates ``init`` only.
        seed: seeds the random initialisation and, with ``shots``, the sampler.
        shots: ``None`` (exact) or samples per evaluation (gradients by parameter shift).
        c_max: the optimum of ``C`` if known (skips the brute-force search).
    """
    t0 = time.perf_counter()
    model = _as_model(model)
    p = _check_p(p)
    steps = check_positive_int("steps", steps, minimum=0)
    seed = check_positive_int("seed", seed, minimum=0)
    if optimizer not in OPTIMIZERS:
        raise UnknownNameError(
            f"optimizer: expected one of {', '.join(OPTIMIZERS)}; got {optimizer!r}"
        )
    rng = np.random.default_rng(seed)
    x0 = _initial_angles(init, p, rng)
    dev = _device(model, device, shots, seed if shots is not None else None)
    f = expectation_fn(model, p, dev)
    grad = qml.grad(f)
    n_eval = 0

    def value_and_grad(x):
        nonlocal n_eval
        n_eval += 1
        xa = pnp.array(np.reshape(x, (2, p)), requires_grad=True)
        return float(f(xa)), np.asarray(grad(xa), np.float64).reshape(2, p)

    v0, g0 = value_and_grad(x0)
    history = [v0]
    x = x0
    if steps and optimizer == "lbfgs":
        last = [None, None]

        def fun(flat):
            v, g = value_and_grad(flat)
            last[:] = [np.array(flat), v]
            return -v, -g.ravel()

        def callback(xk):
            same = last[0] is not None and np.array_equal(xk, last[0])
            history.append(last[1] if same else float(f(np.reshape(xk, (2, p)))))

        res = scipy.optimize.minimize(
            fun,
            x0.ravel(),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": steps, "gtol": 1e-7},
            callback=callback,
        )
        x = res.x.reshape(2, p)
    elif steps:
        import jax
        import jax.numpy as jnp
        import optax

        opt = optax.adam(learning_rate)
        params = jnp.asarray(x0)
        state = opt.init(params)
        g = g0
        for _ in range(steps):
            # optax 0.2.8's bias correction computes ``float ** int32``, which strict dtype
            # promotion rejects; the promotion rules are relaxed for optax's code only.
            with jax.numpy_dtype_promotion("standard"):
                updates, state = opt.update(jnp.asarray(-g, params.dtype), state, params)
                params = optax.apply_updates(params, updates)
            v, g = value_and_grad(np.asarray(params, np.float64))
            history.append(v)
        x = np.asarray(params, np.float64)
    value = float(f(x)) if steps else v0
    c_max = _c_max(model) if c_max is None else float(c_max)
    return _summarise(model, p, x, value, dev, c_max, history, n_eval, t0)


def sweep_depth(model, ps=(1, 2, 3), *, init="fixed", **kwargs) -> list[QAOAResult]:
    """:func:`run_qaoa` at increasing depths, each started by INTERP from the previous one.

    The first depth starts from ``init``; depth ``ps[k+1]`` starts from
    :func:`interp_angles` applied ``ps[k+1] - ps[k]`` times to the optimum of ``ps[k]``
    (Zhou et al., arXiv:1812.01041). ``ps`` must be strictly increasing; ``kwargs`` go to
    :func:`run_qaoa` (the brute-force optimum is computed once).
    """
    ps = [_check_p(p) for p in ps]
    if not ps or any(b <= a for a, b in zip(ps, ps[1:], strict=False)):
        raise InvalidParameterError(f"ps: expected a strictly increasing list of depths; got {ps}")
    model = _as_model(model)
    if kwargs.get("c_max") is None:
        kwargs["c_max"] = _c_max(model)
    results = [run_qaoa(model, p=ps[0], init=init, **kwargs)]
    for p in ps[1:]:
        x = results[-1].angles
        while x.shape[1] < p:
            x = interp_angles(x)
        results.append(run_qaoa(model, p=p, init=x, **kwargs))
    return results


# ------------------------------------------------------------------- graphs and SA


def random_regular_graph(n: int, d: int, seed: int, *, max_tries: int = 10_000) -> Graph:
    """A uniformly random simple ``d``-regular graph on ``n`` nodes (unit weights).

    Configuration (pairing) model with rejection of self-loops and multi-edges
    (B. Bollobás, Eur. J. Comb. 1, 311 (1980)); uniform over simple graphs, practical for
    small ``d`` (acceptance ~ exp(-(d^2 - 1)/4)). Edges are sorted, ``i < j``.
    """
    n = check_positive_int("n", n, minimum=1)
    d = check_positive_int("d", d, minimum=0)
    seed = check_positive_int("seed", seed, minimum=0)
    if d >= n or (n * d) % 2:
        raise InvalidParameterError(
            f"expected d < n and n * d even for a simple d-regular graph; got n={n}, d={d}"
        )
    rng = np.random.default_rng(seed)
    stubs = np.repeat(np.arange(n), d)
    for _ in range(max_tries):
        pairs = rng.permutation(stubs).reshape(-1, 2)
        pairs.sort(axis=1)
        if np.any(pairs[:, 0] == pairs[:, 1]):
            continue
        codes = pairs[:, 0] * n + pairs[:, 1]
        if len(np.unique(codes)) != len(codes):
            continue
        return Graph(n, pairs[np.argsort(codes)], None)
    raise InvalidParameterError(  # pragma: no cover - astronomically unlikely for small d
        f"no simple {d}-regular graph found in {max_tries} tries; got n={n}, d={d}"
    )


class AnnealComparison(NamedTuple):
    """Result of :func:`compare_with_annealing`.

    Attributes:
        maxcut: brute-force maximum cut.
        sa_cut: best cut found by simulated annealing.
        sa_ratio: ``sa_cut / maxcut`` (nan when ``maxcut <= 0``, as for every ratio here).
        qaoa_ratio: QAOA ``<cut> / maxcut`` at the optimised angles.
        qaoa_best_ratio: cut of QAOA's most probable bitstring / maxcut.
        qaoa: the :class:`QAOAResult`.
        sa_spins: ``(n,)`` int8 SA's best assignment.
    """

    maxcut: float
    sa_cut: float
    sa_ratio: float
    qaoa_ratio: float
    qaoa_best_ratio: float
    qaoa: QAOAResult
    sa_spins: np.ndarray


def compare_with_annealing(
    graph, *, p: int = 1, seed: int = 0, n_sweeps: int = 1000, n_restarts: int = 16, **qaoa_kwargs
) -> AnnealComparison:
    """Solve MaxCut of ``graph`` by QAOA (:func:`run_qaoa`) and by simulated annealing
    (:func:`qml_phys.classical.annealing.anneal`, key from ``seed``) and compare both to the
    brute-force optimum."""
    import jax

    from qml_phys.classical.annealing import anneal

    model = _as_model(graph)
    if not isinstance(model, MaxCut):
        raise InvalidParameterError(
            f"compare_with_annealing: expected a Graph or a MaxCut model; got "
            f"{type(model).__name__}"
        )
    maxcut = maxcut_brute_force(model.graph)[0]
    sa = anneal(jax.random.key(seed), model, n_sweeps=n_sweeps, n_restarts=n_restarts)
    sa_cut = -float(sa.best_energy) + 0.0  # no negative zero
    q = run_qaoa(model, p=p, seed=seed, c_max=maxcut, **qaoa_kwargs)
    return AnnealComparison(
        maxcut=maxcut,
        sa_cut=sa_cut,
        sa_ratio=_ratio(sa_cut, maxcut),
        qaoa_ratio=q.approximation_ratio,
        qaoa_best_ratio=_ratio(q.most_probable_value, maxcut),
        qaoa=q,
        sa_spins=np.asarray(sa.best_spins),
    )
