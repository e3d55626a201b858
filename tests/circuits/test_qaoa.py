"""QAOA against exact answers: Wang et al.'s p = 1 formula, an independent numpy statevector
built from ``model.sparse_matrix()``, Wurtz-Lykov fixed-angle values on graphs whose
neighbourhoods are trees, brute-force MaxCut and simulated annealing."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pennylane as qml
import pennylane.numpy as pnp
import pytest

from qml_phys.circuits import qaoa
from qml_phys.circuits.qaoa import ComparisonConfig, QAOAConfig
from qml_phys.classical.annealing import AnnealConfig
from qml_phys.errors import (
    GraphFormatError,
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
)
from qml_phys.physics.exact import maxcut_brute_force
from qml_phys.physics.graphs import random_regular_graph
from qml_phys.physics.lattice import Graph
from qml_phys.physics.models import GraphIsing, MaxCut
from qml_phys.runtime.precision import float64

P1_3REG = 0.5 + 1 / (3 * math.sqrt(3))  # Farhi et al.: <C>/|E| at p = 1, triangle-free
P1_GAMMA, P1_BETA = math.atan(1 / math.sqrt(2)), math.pi / 8


def graph(n: int, seed: int) -> Graph:
    """The random 3-regular instance named ``seed`` (a key made from it, as at the face)."""
    return random_regular_graph(n, 3, key=jax.random.key(seed))


def petersen() -> Graph:
    """3-regular, girth 5 (triangle-free), 10 nodes, 15 edges, MaxCut 12."""
    outer = [(i, (i + 1) % 5) for i in range(5)]
    spokes = [(i, i + 5) for i in range(5)]
    inner = [(5 + i, 5 + (i + 2) % 5) for i in range(5)]
    return Graph(10, outer + spokes + inner)


def heawood() -> Graph:
    """3-regular, girth 6 (LCF [5,-5]^7), 14 nodes, 21 edges, bipartite."""
    edges = [(i, (i + 1) % 14) for i in range(14)] + [(i, (i + 5) % 14) for i in range(0, 14, 2)]
    return Graph(14, edges)


def numpy_qaoa_expectation(model, angles) -> float:
    """<C> = -<psi|H|psi> with psi built by plain numpy from sparse_matrix() (no PennyLane)."""
    h = model.sparse_matrix()
    n = model.n_sites
    diag = h.diagonal()
    psi = np.full(2**n, 2 ** (-n / 2), complex)
    for gamma, beta in zip(angles[0], angles[1], strict=True):
        psi = np.exp(1j * gamma * diag) * psi  # e^{-i gamma C}, C = -H
        rx = np.array([[np.cos(beta), -1j * np.sin(beta)], [-1j * np.sin(beta), np.cos(beta)]])
        t = psi.reshape((2,) * n)
        for w in range(n):
            t = np.moveaxis(np.tensordot(rx, t, axes=([1], [w])), 0, w)
        psi = t.reshape(-1)
    return -float(np.real(np.vdot(psi, h @ psi)))


# ------------------------------------------------------- circuit vs exact


@pytest.mark.parametrize(
    "graph",
    [
        Graph(3, [(0, 1), (1, 2), (0, 2)]),  # triangle: every edge in one triangle
        Graph(5, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (1, 4)]),  # mixed degrees
        Graph(4, [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),  # K4: 2 triangles per edge
        petersen(),  # triangle-free
    ],
    ids=["triangle", "mixed", "K4", "petersen"],
)
def test_p1_circuit_matches_wang_formula(graph):
    f = qaoa.expectation_fn(MaxCut(graph), 1)
    for gamma, beta in [(0.3, 0.2), (1.1, -0.4), (P1_GAMMA, P1_BETA), (2.5, 1.3)]:
        circuit = float(f(np.array([[gamma], [beta]])))
        formula = qaoa.p1_maxcut_expectation(graph, gamma, beta)
        assert circuit == pytest.approx(formula, abs=1e-10)


def test_weights_matter_and_match_numpy_statevector():
    edges = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (3, 4), (4, 5), (5, 1)]
    weights = np.array([0.5, 2.0, 1.5, 0.3, 1.0, 2.5, 0.7, 1.2])
    weighted, unweighted = MaxCut(Graph(6, edges, weights)), MaxCut(Graph(6, edges))
    angles = np.array([[0.4, 0.9], [0.5, 0.2]])
    c_w = float(qaoa.expectation_fn(weighted, 2)(angles))
    c_u = float(qaoa.expectation_fn(unweighted, 2)(angles))
    assert c_w == pytest.approx(numpy_qaoa_expectation(weighted, angles), abs=1e-10)
    assert c_u == pytest.approx(numpy_qaoa_expectation(unweighted, angles), abs=1e-10)
    assert abs(c_w - c_u) > 0.1
    # the default.qubit statevector agrees too (independent device)
    c_dq = float(qaoa.expectation_fn(weighted, 2, "default.qubit")(angles))
    assert c_dq == pytest.approx(c_w, abs=1e-10)


def test_general_ising_cost_with_fields_matches_numpy_statevector():
    g = Graph(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)], [1.0, -0.7, 0.4, 1.3, -1.1, 0.6])
    model = GraphIsing(g, h=np.array([0.3, -0.2, 0.5, 0.0, 0.1]))
    angles = np.array([[0.35, 0.8, 0.2], [0.6, 0.3, 0.15]])
    c = float(qaoa.expectation_fn(model, 3)(angles))
    assert c == pytest.approx(numpy_qaoa_expectation(model, angles), abs=1e-10)
    energies = np.asarray(model.sparse_matrix().diagonal())
    np.testing.assert_allclose(qaoa.cost_diagonal(model), -energies, atol=1e-12)
    res = qaoa.run_qaoa(model, QAOAConfig(n_layers=2, init="random"), key=jax.random.key(3))
    assert res.c_max == pytest.approx(-energies.min())
    assert 0 < res.approximation_ratio <= 1 + 1e-12
    assert res.expectation >= res.expectations[0] - 1e-9


def test_adjoint_gradient_matches_backprop_and_parameter_shift():
    model = MaxCut(graph(8, 2))
    x = pnp.array([[0.4, 0.7], [0.5, 0.25]], requires_grad=True)
    g_adj = qml.grad(qaoa.expectation_fn(model, 2, "lightning.qubit"))(x)
    g_bp = qml.grad(qaoa.expectation_fn(model, 2, "default.qubit"))(x)
    circuit, h = qaoa.qaoa_circuit(model, 2), model.to_pennylane()

    @qml.qnode(qml.device("default.qubit", wires=8), diff_method="parameter-shift")
    def energy(angles):
        circuit(angles)
        return qml.expval(h)

    g_ps = -qml.grad(energy)(x)  # C = -H
    np.testing.assert_allclose(np.asarray(g_adj), np.asarray(g_bp), atol=1e-8)
    np.testing.assert_allclose(np.asarray(g_adj), np.asarray(g_ps), atol=1e-8)
    assert np.max(np.abs(np.asarray(g_adj))) > 0.1
    # the JAX interface (what run_qaoa optimises through) gives the same gradient
    with float64():
        g_jax = jax.grad(qaoa.expectation_fn(model, 2))(jnp.asarray(np.asarray(x)))
    np.testing.assert_allclose(np.asarray(g_jax), np.asarray(g_adj), atol=1e-8)


# ----------------------------------------------------- fixed angles, INTERP


def test_p1_fixed_angles_give_analytic_ratio_on_triangle_free_3_regular():
    g = petersen()
    f = qaoa.expectation_fn(g, 1)
    exact = float(f(np.array([[P1_GAMMA], [P1_BETA]]))) / g.n_edges
    assert exact == pytest.approx(P1_3REG, abs=1e-12)
    table = qaoa.evaluate_qaoa(g, qaoa.fixed_angles(1))
    assert table.expectation / g.n_edges == pytest.approx(P1_3REG, abs=1e-5)  # 3-digit angles
    assert table.c_max == maxcut_brute_force(g)[0] == 12
    assert table.approximation_ratio >= 0.6925 - 1e-5
    # optimising from random angles finds the same optimum value
    opt = qaoa.run_qaoa(g, QAOAConfig(n_layers=1, init="random"), key=jax.random.key(4))
    assert opt.expectation / g.n_edges == pytest.approx(P1_3REG, abs=1e-7)
    assert opt.converged


def test_p2_fixed_angles_on_girth_6_graph_give_tree_value():
    g = heawood()  # every depth-2 edge neighbourhood is a tree
    value = float(qaoa.expectation_fn(g, 2)(qaoa.fixed_angles(2))) / g.n_edges
    assert value == pytest.approx(0.7559, abs=2e-4)


def test_interp_angles():
    np.testing.assert_allclose(qaoa.interp_angles([[0.6], [0.4]]), [[0.6, 0.6], [0.4, 0.4]])
    np.testing.assert_allclose(
        qaoa.interp_angles([[0.2, 0.8], [0.6, 0.2]]), [[0.2, 0.5, 0.8], [0.6, 0.4, 0.2]]
    )
    assert qaoa.interp_angles(qaoa.fixed_angles(3)).shape == (2, 4)


# --------------------------------------------------------------- targets


def _ratios(instances, ps=(1, 2, 3)):
    out = []
    for n, seed in instances:
        results = qaoa.sweep_depth(graph(n, seed), ps)
        assert [r.p for r in results] == list(ps)
        out.append([r.approximation_ratio for r in results])
    return np.array(out)


def test_sweep_depth_meets_3_regular_targets():
    ratios = _ratios([(10, 0), (12, 1), (14, 2)])
    mean = ratios.mean(axis=0)
    assert mean[0] >= 0.6925 and mean[1] >= 0.7559 and mean[2] >= 0.7923
    assert np.all(np.diff(ratios, axis=1) >= -1e-9)  # deeper never worse (INTERP start)


@pytest.mark.slow
def test_sweep_depth_meets_3_regular_targets_many_seeds():
    ratios = _ratios([(n, s) for n in (10, 12, 14) for s in range(3, 7)])
    mean = ratios.mean(axis=0)
    assert mean[0] >= 0.6925 and mean[1] >= 0.7559 and mean[2] >= 0.7923
    assert np.all(ratios[:, 0] >= 0.6925)  # p = 1: <C>/maxcut >= <C>/|E| >= 0.6925


def test_most_probable_bitstring_is_consistent():
    g = graph(10, 7)
    res = qaoa.run_qaoa(g, QAOAConfig(n_layers=3, init="fixed"))
    cut = float(MaxCut(g).cut_value(np.asarray(res.most_probable, np.float32)))
    assert res.most_probable_value == pytest.approx(cut)
    assert res.most_probable.dtype == np.int8 and res.most_probable.shape == (10,)
    assert 0 < res.most_probable_probability <= 1
    assert res.most_probable_value <= res.c_max
    assert res.expectations[-1] == pytest.approx(res.expectation)
    assert res.most_probable_bitstring == "".join("1" if s < 0 else "0" for s in res.most_probable)


def test_adam_improves_from_random_start():
    g = graph(8, 4)
    config = QAOAConfig(n_layers=1, init="random", optimizer="adam", n_steps=60)
    res = qaoa.run_qaoa(g, config, key=jax.random.key(2))
    assert len(res.expectations) == 61 and res.status == "not_converged"
    assert res.expectation > res.expectations[0] + 0.1
    best = qaoa.run_qaoa(g, QAOAConfig(n_layers=1, init="fixed"))
    assert res.expectation <= best.expectation + 1e-6


def test_lbfgs_converges_and_counts_its_evaluations():
    """From the fixed angles L-BFGS reaches a point where the gradient vanishes (status
    converged, last gradient norm below gtol); every line-search trial is counted, so there
    are at least as many evaluations as steps."""
    res = qaoa.run_qaoa(graph(10, 1), QAOAConfig(n_layers=2))
    norms = res.history["grad_norm"]
    assert res.converged and norms[-1] < 1e-7 < norms[0]
    assert res.n_evaluations >= len(norms)
    assert np.all(np.diff(res.history["expectation"]) >= -1e-12)  # the line search ascends
    s = res.summary()
    assert s["converged"] and s["p"] == 2 and s["config"]["optimizer"] == "lbfgs"


def test_other_optimisers_share_the_vqe_path():
    """QNG and any optax transformation run through the same minimize as VQE."""
    g = graph(8, 5)
    best = qaoa.run_qaoa(g, QAOAConfig(n_layers=1))  # L-BFGS to the optimum
    assert best.converged
    for optimizer in ("qng", optax.sgd(0.02)):
        config = QAOAConfig(n_layers=1, optimizer=optimizer, n_steps=20, learning_rate=0.05)
        res = qaoa.run_qaoa(g, config, angles=[[0.3], [0.2]])
        assert res.expectation > res.expectations[0] + 0.05
        assert res.expectation <= best.expectation + 1e-9


def test_auto_optimizer_is_lbfgs_analytic_and_adam_with_shots():
    """A line search on shot noise does not converge (n = 4, p = 1, 1000 shots: 2628
    evaluations, 167 s); with shots "auto" is Adam, and the result's config says so."""
    g = graph(4, 1)
    assert QAOAConfig().optimizer == "auto"
    assert QAOAConfig().for_shots(None).optimizer == "lbfgs"
    assert QAOAConfig().for_shots(100).optimizer == "adam"
    assert QAOAConfig(optimizer="qng").for_shots(100).optimizer == "qng"  # chosen: kept
    config = QAOAConfig(n_layers=1, n_steps=10)
    res = qaoa.run_qaoa(g, config, device="default.qubit:shots=200", key=jax.random.key(2))
    assert res.config.optimizer == "adam" and res.summary()["config"]["optimizer"] == "adam"
    assert len(res.history["expectation"]) == 10 and res.n_evaluations == 11
    assert res.expectation_error is not None and res.expectation_error > 0
    assert qaoa.run_qaoa(g, config).config.optimizer == "lbfgs"


def test_aer_shots_estimate_matches_statevector():
    g = graph(10, 3)
    exact = qaoa.run_qaoa(g, QAOAConfig(n_layers=1))
    sampled = qaoa.evaluate_qaoa(
        g,
        exact.angles,
        device="qiskit.aer:shots=10000",
        key=jax.random.key(11),
        c_max=exact.c_max,
    )
    assert abs(sampled.approximation_ratio - exact.approximation_ratio) < 0.02
    assert sampled.approximation_ratio != exact.approximation_ratio  # really sampled


@pytest.mark.parametrize("n, seed", [(10, 0), (12, 1), (14, 2)])
def test_annealing_reaches_brute_force_optimum(n, seed):
    g = graph(n, seed)
    config = ComparisonConfig(annealing=AnnealConfig(n_sweeps=500))
    cmp = qaoa.compare_with_annealing(g, config, key=jax.random.key(seed))
    assert cmp.maxcut == maxcut_brute_force(g)[0]
    assert cmp.sa_cut == cmp.maxcut and cmp.sa_ratio == 1.0
    assert float(MaxCut(g).cut_value(np.asarray(cmp.sa_spins, np.float32))) == cmp.maxcut
    assert 0.6925 <= cmp.qaoa_ratio < 1.0
    assert cmp.qaoa_best_ratio <= 1.0


# ------------------------------------------------------------- bad input


def test_graph_errors_surface_through_qaoa(tmp_path):
    with pytest.raises(GraphFormatError, match=r"self-loops are not allowed; got edge"):
        qaoa.run_qaoa(Graph(3, [(0, 1), (1, 1)]))
    with pytest.raises(
        GraphFormatError, match=r"edge endpoints must lie in 0..2; got values from -1"
    ):
        qaoa.run_qaoa(Graph(3, [(0, 1), (-1, 2)]))
    path = tmp_path / "neg.txt"
    path.write_text("0 1\n-2 1\n")
    with pytest.raises(GraphFormatError, match=r"node indices must be >= 0"):
        qaoa.run_qaoa(Graph.from_file(path))


def test_bad_parameters_raise():
    g = graph(6, 0)
    with pytest.raises(InvalidParameterError, match=r"n_layers must be an integer >= 1; got 0"):
        QAOAConfig(n_layers=0)
    with pytest.raises(InvalidParameterError, match=r"n_layers must be an integer >= 1; got -2"):
        qaoa.qaoa_circuit(MaxCut(g), -2)
    with pytest.raises(
        InvalidParameterError, match=r"expected only Z terms; got 'X' on sites \(0,\)"
    ):
        qaoa.run_qaoa(GraphIsing(g, gamma=0.5))
    with pytest.raises(InvalidParameterError, match=r"expected a diagonal model.*got str"):
        qaoa.run_qaoa("maxcut")
    with pytest.raises(UnknownNameError, match=r"init: expected one of fixed, interp, random"):
        QAOAConfig(init="zeros")
    with pytest.raises(InvalidParameterError, match=r"needs the optimised angles of depth p - 1"):
        qaoa.run_qaoa(g, QAOAConfig(n_layers=2, init="interp"))
    with pytest.raises(InvalidParameterError, match=r"key: expected a JAX PRNG key for init="):
        qaoa.run_qaoa(g, QAOAConfig(init="random"))
    with pytest.raises(InvalidParameterError, match=r"expected p in 1..4; got p=5"):
        qaoa.run_qaoa(g, QAOAConfig(n_layers=5, init="fixed"))
    with pytest.raises(ShapeError, match=r"expected shape \(2, 2\).*got \(2, 3\)"):
        qaoa.run_qaoa(g, QAOAConfig(n_layers=2), angles=np.zeros((2, 3)))
    with pytest.raises(
        UnknownNameError,
        match=r"optimizer: expected one of adam, lbfgs, qng or an optax GradientTransformation; "
        r"got 'sgd'",
    ):
        QAOAConfig(optimizer="sgd")
    with pytest.raises(InvalidParameterError, match=r"strictly increasing.*got \[2, 1\]"):
        qaoa.sweep_depth(g, (2, 1))
    with pytest.raises(InvalidParameterError, match=r"triangles: expected at most .* = 1; got 2"):
        qaoa.p1_edge_expectation(0.1, 0.2, 2, 3, 2)
    with pytest.raises(InvalidParameterError, match=r"expected unit edge weights"):
        qaoa.p1_maxcut_expectation(Graph(2, [(0, 1)], [2.0]), 0.1, 0.2)
    with pytest.raises(
        InvalidParameterError, match=r"key: expected a JAX PRNG key to seed the sampling device"
    ):
        qaoa.expectation_fn(g, 1, "qiskit.aer:shots=100")
    with pytest.raises(InvalidParameterError, match=r"config: expected a QAOAConfig; got int"):
        qaoa.run_qaoa(g, 2)


def test_all_negative_weights_give_nan_ratios_not_a_crash():
    """With only negative weights the best cut is the empty one (0): ratios are undefined."""
    from qml_phys.circuits.qaoa import compare_with_annealing
    from qml_phys.physics import Graph

    cmp = compare_with_annealing(Graph(3, [(0, 1), (1, 2)], [-1.0, -1.0]), key=jax.random.key(0))
    assert cmp.maxcut == 0.0 and cmp.sa_cut == 0.0
    assert np.isnan(cmp.sa_ratio) and np.isnan(cmp.qaoa_ratio)
    assert cmp.qaoa.expectation < 0  # QAOA's state has a negative expected cut
