"""Simulated annealing and parallel tempering against brute force: MaxCut optima of random
weighted graphs, ground states of a +-J spin glass on the 4x4 torus (2^16 states), and the
exact energy distribution of the 4x4 ferromagnet at every replica temperature."""

import functools
import math

import jax
import numpy as np
import pytest

from qml_phys.classical import annealing as an
from qml_phys.classical import graph_metropolis as gm
from qml_phys.classical import tempering as pt
from qml_phys.errors import GraphFormatError, InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.physics.exact import enumerate_ising, maxcut_brute_force, onsager_tc
from qml_phys.physics.lattice import Graph, Lattice
from qml_phys.physics.models import (
    GraphIsing,
    IsingModel,
    MaxCut,
    TransverseFieldIsing,
    basis_states,
)
from qml_phys.stats import (
    chi_square_pvalue,
    estimate,
    integrated_time,
    level_counts,
)

SEED_SA = 5_202_605
SEED_GLASS = 6_202_606
SEED_PT = 7_202_607
PT_TEMPS = (1.5, 1.9, onsager_tc(), 2.7, 3.5)


def random_graph(n, seed, p=0.35):
    """Erdos-Renyi graph on n nodes (every node on an edge), weights uniform in [0.1, 1)."""
    rng = np.random.default_rng(seed)
    while True:
        e = np.array([(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < p])
        if len(np.unique(e)) == n:
            return Graph(n, e, rng.uniform(0.1, 1.0, len(e)))


def spin_glass(seed):
    """+-J couplings on the bonds of the periodic 4x4 lattice."""
    edges = Lattice.square(4).edges
    J = np.random.default_rng(seed).choice([-1.0, 1.0], len(edges))
    return GraphIsing(Graph(16, edges, J))


@functools.cache
def all_states():
    return basis_states(16).astype(np.float64)


# ----------------------------------------------------------------------------- problems
def test_problem_reproduces_every_model_energy():
    rng = np.random.default_rng(0)
    g = random_graph(10, 1)
    models = [
        MaxCut(g),
        GraphIsing(g, h=rng.normal(size=10)),
        IsingModel(Lattice.square(2), J=0.7, h=0.3),  # doubled bonds
        IsingModel(Lattice.chain(7, pbc=False), J=-1.2),
        TransverseFieldIsing(Lattice.square(3), J=0.5, h=-0.2, gamma=0.0),
    ]
    for model in models:
        p = gm.ising_problem(model)
        s = rng.choice([-1, 1], size=(50, model.n_sites)).astype(np.int8)
        np.testing.assert_allclose(p.energy(s), np.asarray(model.energy(s)), rtol=1e-5, atol=1e-5)
    p = gm.ising_problem(MaxCut(g))
    assert p.offset == pytest.approx(-0.5 * g.weights.sum())
    np.testing.assert_allclose(p.couplings, -0.5 * g.weights)
    q = gm.ising_problem((g.edges, g.weights, np.ones(10)))
    s = rng.choice([-1, 1], size=(5, 10))
    np.testing.assert_allclose(
        q.energy(s), np.asarray(GraphIsing(g, h=1.0).energy(s)), rtol=1e-5, atol=1e-5
    )


def test_schedules():
    t = an.temperature_schedule(4.0, 0.04, 5)
    np.testing.assert_allclose(t, [4.0, 4.0 * 0.1**0.5, 0.4, 0.4 * 0.1**0.5, 0.04])
    np.testing.assert_allclose(an.temperature_schedule(3.0, 1.0, 3, "linear"), [3.0, 2.0, 1.0])
    assert an.temperature_schedule(2.0, 1.0, 1).tolist() == [2.0]


# ----------------------------------------------------------------------------- annealing
@pytest.mark.parametrize(("n", "seed"), [(12, 101), (14, 102), (16, 103), (16, 104)])
def test_sa_finds_the_maxcut_optimum_and_a_quench_does_not(n, seed):
    g = random_graph(n, seed)
    value, _ = maxcut_brute_force(g)
    model = MaxCut(g)
    res = an.anneal(
        model, an.AnnealConfig(n_sweeps=200, n_restarts=16), key=jax.random.key(SEED_SA + seed)
    )
    assert res.best_energy == pytest.approx(-value, abs=1e-9)
    assert float(model.cut_value(res.best_spins)) == pytest.approx(value, rel=1e-6)
    assert np.sum(np.isclose(res.energies, -value)) >= 4
    assert res.trace.shape == (200, 16) and res.spins.shape == (16, n)
    # the best of each restart is the lowest energy it visited (initial state aside)
    assert np.all(res.energies <= np.asarray(res.trace).min(axis=0) + 1e-4)
    # Negative control: one hot sweep (a quench) never reaches the optimum, so the
    # assertions above measure the annealing.
    quench = an.anneal(
        model, an.AnnealConfig(n_sweeps=1, n_restarts=16), key=jax.random.key(SEED_SA + seed)
    )
    assert quench.best_energy > -value + 1e-6
    assert not np.any(np.isclose(quench.energies, -value))


@pytest.mark.parametrize("seed", [SEED_GLASS, SEED_GLASS + 1])
def test_sa_and_pt_find_the_spin_glass_ground_state(seed):
    model = spin_glass(seed)
    problem = gm.ising_problem(model)
    energies = problem.energy(all_states())
    e_gs = energies.min()
    assert np.sum(energies == e_gs) < 100  # frustrated: few ground states among 65536
    res = an.anneal(
        model,
        an.AnnealConfig(n_sweeps=200, n_restarts=16, order="sequential"),
        key=jax.random.key(seed),
    )
    assert res.best_energy == e_gs
    assert problem.energy(res.best_spins) == e_gs
    quench = an.anneal(model, an.AnnealConfig(n_sweeps=1, n_restarts=16), key=jax.random.key(seed))
    assert quench.best_energy > e_gs
    tempered = pt.parallel_tempering(
        model,
        [0.3, 0.6, 1.0, 1.6, 2.5],
        pt.PTConfig(n_chains=4, n_therm=0, n_sweeps=100),
        key=jax.random.key(seed),
    )
    assert tempered.best_energy == e_gs


# ----------------------------------------------------------------------------- tempering
@functools.cache
def pt_run():
    return pt.parallel_tempering(
        IsingModel(Lattice.square(4)),
        PT_TEMPS,
        pt.PTConfig(n_chains=16, n_therm=200, n_sweeps=3000),
        key=jax.random.key(SEED_PT),
    )


def chi2_pvalue(energies, levels, probs):
    """Chi-square p-value of sampled energies against exact level probabilities."""
    return chi_square_pvalue(level_counts(energies, levels), probs)


def test_pt_energy_histograms_match_enumeration():
    res = pt_run()
    exact = enumerate_ising(4, np.array(PT_TEMPS))
    e = np.asarray(res.energy, np.float64)  # (n_meas, K, n_chains), total energy
    assert e.shape == (3000, len(PT_TEMPS), 16)
    for k, T in enumerate(PT_TEMPS):
        tau = integrated_time(e[:, k].T).tau_int
        samples = e[:: max(1, math.ceil(2 * tau)), k]
        assert samples.size > 5000, (T, tau)
        p = chi2_pvalue(samples, exact.energies, exact.probabilities[k])
        assert p > 1e-3, f"T={T:.3f}: chi-square p = {p:.2e} (tau_int = {tau:.2f})"


def test_pt_magnetization_and_swaps():
    res = pt_run()
    exact = enumerate_ising(4, np.array(PT_TEMPS))
    m = np.abs(np.asarray(res.magnetization, np.float64))
    for k, T in enumerate(PT_TEMPS):
        r = estimate(m[:, k].T)
        assert abs(r.mean - exact.abs_m[k]) < 4 * r.error, (T, r, exact.abs_m[k])
    acc = res.swap_acceptance
    assert acc.shape == (len(PT_TEMPS) - 1,)
    assert np.all((acc > 0.05) & (acc < 0.999)), acc
    assert res.best_energy == -32.0 and res.spins.shape == (len(PT_TEMPS), 16, 16)


def test_fixed_order_sweeps_have_closed_cycles_and_random_order_escapes():
    """Why ``order="random"`` is the default. In this 4x4 configuration every site, at its
    turn in index order, sees dE <= 0, so the sequential sweep maps it to its global flip
    with probability one at any temperature (and back): a closed two-cycle. 64 of the
    65536 states are such traps; with 80 random initial replicas one is drawn about once
    in 13 runs, and then the replica never equilibrates (seen as chi-square p ~ 1e-100)."""
    x = np.array([[-1, -1, 1, 1], [-1, -1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]], np.int8)
    x = jax.numpy.asarray(x.reshape(-1))
    tables = gm.tables(gm.ising_problem(IsingModel(Lattice.square(4))))
    keys = jax.random.split(jax.random.key(SEED_PT), 64)
    for beta in (0.1, 1 / 3.5, 1.0):
        beta = jax.numpy.float32(beta)
        seq, rnd = (
            jax.vmap(functools.partial(gm.sweep, s=x, beta=beta, t=tables, order=order))(keys)
            for order in ("sequential", "random")
        )
        assert np.all(np.asarray(seq) == -np.asarray(x))  # always the global flip
        assert np.mean(np.all(np.asarray(rnd) == -np.asarray(x), axis=1)) < 0.2


def test_pt_swaps_are_rare_between_distant_temperatures():
    """Acceptance falls with the energy gap: T = 0.5 vs 50 almost never swap."""
    res = pt.parallel_tempering(
        IsingModel(Lattice.square(4)),
        [0.5, 50.0],
        pt.PTConfig(n_chains=8, n_therm=20, n_sweeps=100),
        key=jax.random.key(SEED_PT),
    )
    assert res.swap_acceptance[0] < 0.01


# ----------------------------------------------------------------------------- x64, errors
def test_same_result_with_x64():
    model = MaxCut(random_graph(12, 101))
    a = an.anneal(model, an.AnnealConfig(n_sweeps=20, n_restarts=4), key=jax.random.key(3))
    with jax.enable_x64(True):
        b = an.anneal(model, an.AnnealConfig(n_sweeps=20, n_restarts=4), key=jax.random.key(3))
    assert np.array_equal(np.asarray(a.trace), np.asarray(b.trace))
    assert a.best_energy == b.best_energy and b.trace.dtype == np.float32


def test_bad_input_is_rejected_with_the_reason():
    key = jax.random.key(0)
    model = MaxCut(random_graph(12, 101))
    with pytest.raises(InvalidParameterError, match=r"expected T_end <= T_start; got T_start=1"):
        an.anneal(model, an.AnnealConfig(T_start=1.0, T_end=2.0), key=key)
    with pytest.raises(InvalidParameterError, match=r"T_start must be a positive.*got 0"):
        an.anneal(model, an.AnnealConfig(T_start=0.0, T_end=0.0), key=key)
    with pytest.raises(InvalidParameterError, match=r"T_end must be a positive.*got -0.1"):
        an.anneal(model, an.AnnealConfig(T_start=1.0, T_end=-0.1), key=key)
    with pytest.raises(InvalidParameterError, match=r"expected strictly increasing temperatures"):
        pt.parallel_tempering(model, [2.0, 1.0], key=key)
    with pytest.raises(InvalidParameterError, match=r"T must be a positive.*got 0"):
        pt.parallel_tempering(model, [0.0, 1.0], key=key)
    with pytest.raises(ShapeError, match=r"expected at least 2 temperatures"):
        pt.parallel_tempering(model, [1.0], key=key)
    with pytest.raises(GraphFormatError, match=r"expected a graph with at least one edge"):
        an.anneal(MaxCut(Graph(5, np.zeros((0, 2), np.int64))), key=key)
    with pytest.raises(GraphFormatError, match=r"expected a graph with at least one edge"):
        gm.ising_problem((np.zeros((0, 2), np.int64), np.zeros(0)))
    with pytest.raises(InvalidParameterError, match=r"expected only Z and ZZ terms; got 'X'"):
        gm.ising_problem(GraphIsing(random_graph(6, 1), gamma=0.5))
    with pytest.raises(InvalidParameterError, match=r"expected an IsingProblem, a model"):
        an.anneal(Graph(3, [[0, 1]]), key=key)
    with pytest.raises(UnknownNameError, match=r"schedule: expected one of .*got 'cosine'"):
        an.anneal(model, an.AnnealConfig(schedule="cosine"), key=key)
    with pytest.raises(UnknownNameError, match=r"order: expected one of .*got 'spiral'"):
        pt.parallel_tempering(model, [1.0, 2.0], pt.PTConfig(order="spiral"), key=key)
    with pytest.raises(InvalidParameterError, match=r"n_restarts must be an integer >= 1; got 0"):
        an.anneal(model, an.AnnealConfig(n_restarts=0), key=key)
    with pytest.raises(GraphFormatError, match=r"expected no self-loops; got edge \(2, 2\)"):
        gm.IsingProblem(3, [[0, 1], [2, 2]], [1.0, 1.0], 0.0)
    with pytest.raises(ShapeError, match=r"expected couplings of shape \(1,\); got \(2,\)"):
        gm.IsingProblem(3, [[0, 1]], [1.0, 1.0], 0.0)
