"""The sampler interface: every sampler against exact enumeration on small lattices and
graphs (energy histograms by chi-square, magnetization moments), the ordered start below
T_c, states that continue, and the named errors."""

import math

import jax
import numpy as np
import pytest

from qml_phys.classical.samplers import (
    Metropolis,
    ParallelTempering,
    SwendsenWang,
    Wolff,
    critical_temperature,
    make_sampler,
)
from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.physics import Graph, GraphIsing, IsingModel, Lattice
from qml_phys.physics.exact import enumerate_ising, kaufman, onsager_tc
from qml_phys.stats import (
    chi_square_pvalue,
    estimate,
    integrated_time,
    level_counts,
)

SEED = 20_261_206


def _run(sampler, model, temps, *, n_chains=16, n_therm=200, n_sweeps=2000, key=SEED):
    state = sampler.init(model, temps, n_chains, key=jax.random.key(key))
    state = sampler.sweep(model, state, n_sweeps=n_therm)
    return sampler.sample(model, state, n_sweeps=n_sweeps)


def _check_energies(trace, model, temps):
    """Chi-square of the thinned total energies against enumeration, at every T."""
    exact = enumerate_ising(model.lattice, np.asarray(temps), J=model.J)
    e = np.asarray(trace.energy, np.float64) * model.n_sites
    for k, T in enumerate(temps):
        tau = integrated_time(e[:, k].T).tau_int
        samples = e[:: max(1, math.ceil(2 * tau)), k]
        assert samples.size > 2000, (T, tau)
        p = chi_square_pvalue(level_counts(samples, exact.energies), exact.probabilities[k])
        assert p > 1e-3, f"T={T}: chi-square p = {p:.2e} (tau_int {tau:.2f})"
    return exact


@pytest.mark.parametrize(
    "sampler", [Metropolis(), Metropolis("checkerboard"), Wolff(), SwendsenWang()], ids=repr
)
def test_square_4x4_matches_enumeration(sampler):
    model = IsingModel(Lattice.square(4))
    temps = (1.5, onsager_tc(), 3.5)
    _, trace = _run(sampler, model, temps)
    exact = _check_energies(trace, model, temps)
    m = np.abs(np.asarray(trace.magnetization, np.float64))
    for k in range(len(temps)):
        r = estimate(m[:, k].T)
        assert abs(r.mean - exact.abs_m[k]) < 4 * r.error, (temps[k], r, exact.abs_m[k])


def test_triangular_lattice_matches_enumeration_and_starts_ordered():
    """The colour-by-colour Metropolis on the 3x3 triangular torus (three sublattices),
    below, at and above Houtappel's T_c = 4/ln 3."""
    model = IsingModel(Lattice.triangular(3))
    tc = critical_temperature(model)
    assert tc == pytest.approx(4 / math.log(3))
    temps = (0.8 * tc, tc, 1.5 * tc)
    sampler = Metropolis()
    assert sampler.engine(model) == "checkerboard"
    state = sampler.init(model, temps, 8, key=jax.random.key(1))
    s = np.asarray(state.spins)
    assert np.all(np.abs(s[0].sum(axis=(1, 2))) == 9)  # ordered below T_c, either sign
    assert len(np.unique(s[0].sum(axis=(1, 2)))) == 2
    assert not np.all(np.abs(s[2].sum(axis=(1, 2))) == 9)  # random above it
    _, trace = _run(sampler, model, temps)
    _check_energies(trace, model, temps)


def test_odd_torus_and_graphs_use_the_colouring():
    """An odd square torus is not bipartite: the greedy colouring takes over (Kaufman is
    exact for any L); a weighted spin glass on a graph against enumeration."""
    model = IsingModel(Lattice.square(5))
    assert Metropolis().engine(model) == "checkerboard"
    T = 2.5
    _, trace = _run(Metropolis(), model, [T], n_sweeps=4000)
    r = estimate(np.asarray(trace.energy, np.float64)[:, 0].T)
    ref = float(kaufman(5, T).energy_per_site)
    assert abs(r.mean - ref) < 4 * r.error, (r, ref)
    graph = Graph(
        6, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3)], [1, -1, 2, 1, 1, -2, 1]
    )
    glass = GraphIsing(graph, h=0.3)
    _, trace = _run(Metropolis(), glass, [1.2], n_sweeps=6000)
    states = ((np.arange(64)[:, None] >> np.arange(5, -1, -1)) & 1) * -2 + 1
    energies = np.asarray(glass.energy(states.astype(np.float64)), np.float64)
    w = np.exp(-(energies - energies.min()) / 1.2)
    mean = float(np.sum(w * energies) / np.sum(w)) / 6
    r = estimate(np.asarray(trace.energy, np.float64)[:, 0].T)
    assert abs(r.mean - mean) < 4 * r.error, (r, mean)


def test_parallel_tempering_sampler_continues_its_state():
    model = IsingModel(Lattice.square(4))
    sampler = ParallelTempering()
    state = sampler.init(model, [1.5, 2.3, 3.5], 4, key=jax.random.key(2))
    state, first = sampler.sample(model, state, n_sweeps=50)
    state, second = sampler.sample(model, state, n_sweeps=50)
    assert state.sweeps == 100 and first.energy.shape == (50, 3, 4)
    assert first.extra["swap_acceptance"].shape == (2,)
    assert not np.array_equal(np.asarray(first.energy), np.asarray(second.energy))


def test_same_key_same_chain_and_names():
    model = IsingModel(Lattice.square(8))
    a = _run(Metropolis(), model, [2.3], n_chains=2, n_therm=10, n_sweeps=20)[1]
    b = _run(Metropolis(), model, [2.3], n_chains=2, n_therm=10, n_sweeps=20)[1]
    assert np.array_equal(np.asarray(a.energy), np.asarray(b.energy))
    assert isinstance(make_sampler("sw"), SwendsenWang)
    assert isinstance(make_sampler("metropolis", method="general"), Metropolis)


def test_bad_input_is_named():
    key = jax.random.key(0)
    square = IsingModel(Lattice.square(4))
    with pytest.raises(UnknownNameError, match="unknown algorithm 'heatbath'"):
        make_sampler("heatbath")
    with pytest.raises(UnknownNameError, match="method: expected one of"):
        Metropolis("fast")
    with pytest.raises(InvalidParameterError, match="method='packed' runs on the periodic square"):
        Metropolis("packed").init(IsingModel(Lattice.triangular(3)), [2.0], key=key)
    with pytest.raises(InvalidParameterError, match="expected J > 0"):
        Wolff().init(IsingModel(Lattice.square(4), J=-1.0), [2.0], key=key)
    with pytest.raises(InvalidParameterError, match="multiple of measure_every=3"):
        state = Metropolis().init(square, [2.0], key=key)
        Metropolis().sample(square, state, n_sweeps=10, measure_every=3)
    state = Metropolis().init(square, [2.0], key=key)
    with pytest.raises(ShapeError, match="was the state made for another model"):
        Metropolis().sample(IsingModel(Lattice.square(6)), state, n_sweeps=1)
    with pytest.raises(InvalidParameterError, match="strictly increasing"):
        ParallelTempering().init(square, [2.0, 1.0], key=key)
