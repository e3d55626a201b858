"""Wolff and Swendsen-Wang against exact results: enumeration of small lattices (energy
histograms by chi-square, magnetization moments), Kaufman's finite torus (energy and
specific heat), the improved estimator <|C|> = N <m^2>, and the limits of the cluster size.
Each check runs on both backends (vectorised JAX and compiled numba), which draw different
random streams and must sample the same distribution."""

import functools
import math
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.classical import cluster
from qml_phys.classical.samplers import SwendsenWang, Wolff
from qml_phys.errors import InvalidParameterError, ShapeError, UnknownNameError
from qml_phys.physics.exact import enumerate_ising, kaufman, onsager_tc
from qml_phys.physics.lattice import Lattice
from qml_phys.physics.models import IsingModel, TransverseFieldIsing
from qml_phys.stats import (
    chi_square_pvalue,
    estimate,
    integrated_time,
    level_counts,
)

TC = onsager_tc()
TEMPS = (1.5, TC, 3.5)
SEED_L4 = 1_202_601
SEED_KAUFMAN = 2_202_602
SEED_SMALL = 3_202_603
SEED_LIMITS = 4_202_604
BACKENDS = ("jax", "numba")


# ----------------------------------------------------------------------------- helpers
def run(
    key,
    model,
    temps,
    *,
    algorithm="wolff",
    n_chains=1,
    n_therm=100,
    n_meas=1000,
    steps_per_meas=1,
    init="random",
    backend="auto",
):
    """Chains from random (or all-up) spins: ``n_therm`` updates of the kernel, then
    :func:`cluster.measure`; the fields the tests read, by name."""
    lattice = model if isinstance(model, Lattice) else model.lattice
    k_init, k_therm, k_run = jax.random.split(key, 3)
    betas = 1.0 / np.atleast_1d(np.asarray(temps, np.float64))
    shape = (len(betas), n_chains, *lattice.shape)
    spins = jnp.where(jax.random.bernoulli(k_init, 0.5, shape), 1, -1).astype(jnp.int8)
    if init == "up":
        spins = jnp.ones(shape, jnp.int8)
    if n_therm:
        update = cluster.wolff if algorithm == "wolff" else cluster.swendsen_wang
        steps = {"n_steps" if algorithm == "wolff" else "n_sweeps": n_therm}
        J = 1.0 if isinstance(model, Lattice) else model.J
        _, spins = update(k_therm, spins, betas, lattice=lattice, J=J, backend=backend, **steps)
    e, m, stat, spins = cluster.measure(
        k_run,
        spins,
        betas,
        model=model,
        n_meas=n_meas,
        steps_per_meas=steps_per_meas,
        algorithm=algorithm,
        backend=backend,
    )
    N = lattice.n_sites
    size, n_cl = (stat, jnp.ones_like(stat)) if algorithm == "wolff" else (N / stat, stat)
    return types.SimpleNamespace(
        energy=e,
        magnetization=m,
        spins=spins,
        mean_cluster_size=size,
        n_clusters=n_cl,
        backend=cluster._check_backend(backend),
        algorithm=algorithm,
        steps_per_meas=steps_per_meas,
        temperatures=1.0 / betas,
    )


def chi2_pvalue(energies, levels, probs):
    """Chi-square p-value of sampled energies against exact level probabilities."""
    return chi_square_pvalue(level_counts(energies, levels), probs)


def thinned(series):
    """``series (n_meas, n_chains)`` thinned by ``ceil(2 tau_int)`` of itself."""
    tau = integrated_time(np.asarray(series, np.float64).T).tau_int
    return np.asarray(series)[:: max(1, math.ceil(2 * tau))], tau


def est(series):
    """:func:`estimate` of a ``(n_meas, n_chains)`` trace."""
    return estimate(np.asarray(series, np.float64).T)


@functools.cache
def l4_run(algorithm, backend):
    """L = 4 torus at T = 1.5, Tc, 3.5: 32 chains x 3000 measurements, one update apart."""
    res = run(
        jax.random.key(SEED_L4),
        Lattice.square(4),
        TEMPS,
        algorithm=algorithm,
        n_chains=32,
        n_therm=200,
        n_meas=3000,
        backend=backend,
    )
    assert res.backend == backend
    return res


# ----------------------------------------------------------------------------- L = 4
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("algorithm", cluster.ALGORITHMS)
def test_energy_histogram_matches_enumeration(algorithm, backend):
    res = l4_run(algorithm, backend)
    exact = enumerate_ising(4, np.array(TEMPS))
    e = np.asarray(res.energy) * 16  # total energy
    for k, T in enumerate(TEMPS):
        samples, tau = thinned(e[:, k, :])
        assert samples.size > 10_000, (T, tau)
        p = chi2_pvalue(samples, exact.energies, exact.probabilities[k])
        assert p > 1e-3, f"{algorithm} T={T:.3f}: chi-square p = {p:.2e} (tau_int = {tau:.2f})"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("algorithm", cluster.ALGORITHMS)
def test_magnetization_moments_match_enumeration(algorithm, backend):
    res = l4_run(algorithm, backend)
    exact = enumerate_ising(4, np.array(TEMPS))
    m = np.asarray(res.magnetization, np.float64)
    for k, T in enumerate(TEMPS):
        for name, series, ref in (
            ("|m|", np.abs(m[:, k]), exact.abs_m[k]),
            ("m^2", m[:, k] ** 2, exact.m2[k]),
        ):
            r = est(series)
            assert abs(r.mean - ref) < 4 * r.error, f"{algorithm} T={T:.3f} {name}: {r} vs {ref}"
            assert r.error < 0.01  # the comparison has power


@pytest.mark.parametrize("backend", BACKENDS)
def test_wolff_cluster_size_is_the_improved_susceptibility(backend):
    """For h = 0 the mean Wolff cluster size equals N <m^2> (Wolff 1989, eq. 9)."""
    res = l4_run("wolff", backend)
    exact = enumerate_ising(4, np.array(TEMPS))
    sizes = np.asarray(res.mean_cluster_size, np.float64)  # (n_temps, n_chains)
    for k, T in enumerate(TEMPS):
        mean = sizes[k].mean()
        err = sizes[k].std(ddof=1) / math.sqrt(sizes.shape[1])
        assert abs(mean - 16 * exact.m2[k]) < 4 * err, (T, mean, err, 16 * exact.m2[k])


# ----------------------------------------------------------------------------- Kaufman
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("algorithm", cluster.ALGORITHMS)
@pytest.mark.parametrize("L", [8, pytest.param(16, marks=pytest.mark.slow)])
def test_energy_and_specific_heat_match_kaufman(algorithm, L, backend):
    temps = (2.0, TC, 2.6)
    res = run(
        jax.random.key(SEED_KAUFMAN + L),
        Lattice.square(L),
        temps,
        algorithm=algorithm,
        n_chains=16,
        n_therm=200,
        n_meas=2000,
        steps_per_meas=4 if algorithm == "wolff" else 1,
        backend=backend,
    )
    exact = kaufman(L, np.array(temps))
    e = np.asarray(res.energy, np.float64)
    N = L * L
    for k, T in enumerate(temps):
        r = est(e[:, k])
        assert abs(r.mean - exact.energy_per_site[k]) < 4 * r.error, (T, r)
        assert r.error < 5e-3
        # c = beta^2 N <(e - <e>)^2>; the error bar from tau_int of the squared deviation
        dev2 = (e[:, k] - r.mean) ** 2 * N / T**2
        c = est(dev2)
        ref = exact.specific_heat_per_site[k]
        assert abs(c.mean - ref) < 4 * c.error, (T, c, ref)
        assert c.error < 0.1 * ref


# ------------------------------------------------------------------ other lattices
OTHER_LATTICES = {
    "torus-2-doubled-bonds": Lattice.square(2),
    "open-3x3": Lattice.square(3, pbc=False),
    "ring-10": Lattice.chain(10),
    "open-chain-7": Lattice.chain(7, pbc=False),
}
# Every lattice and algorithm on the cheap numba backend; a selection on JAX.
JAX_OTHER = {
    ("torus-2-doubled-bonds", "wolff"),
    ("torus-2-doubled-bonds", "swendsen_wang"),
    ("open-3x3", "wolff"),
    ("ring-10", "swendsen_wang"),
}


@pytest.mark.parametrize(
    ("name", "algorithm", "backend"),
    [(n, a, "numba") for n in OTHER_LATTICES for a in cluster.ALGORITHMS]
    + [(n, a, "jax") for n, a in sorted(JAX_OTHER)],
)
def test_other_lattices_match_enumeration(name, algorithm, backend):
    lattice = OTHER_LATTICES[name]
    T = 1.8
    res = run(
        jax.random.key(SEED_SMALL),
        lattice,
        [T],
        algorithm=algorithm,
        n_chains=16,
        n_therm=100,
        n_meas=2000,
        backend=backend,
    )
    exact = enumerate_ising(lattice, T)
    e = est(np.asarray(res.energy)[:, 0])
    m2 = est(np.asarray(res.magnetization, np.float64)[:, 0] ** 2)
    assert abs(e.mean - exact.energy_per_site) < 4 * e.error, (e, exact.energy_per_site)
    assert abs(m2.mean - exact.m2) < 4 * m2.error, (m2, exact.m2)


def test_energy_per_site_matches_the_model():
    key = jax.random.key(SEED_SMALL)
    for lattice in (Lattice.square(2), Lattice.square(5, pbc=False), Lattice.chain(6)):
        key, sub = jax.random.split(key)
        s = jnp.where(jax.random.bernoulli(sub, 0.5, (5,) + lattice.shape), 1, -1)
        s = s.astype(jnp.int8)
        model = IsingModel(lattice, J=1.5)
        ours = cluster.energy_per_site(s, lattice, J=1.5)
        ref = np.asarray(model.energy(s)) / lattice.n_sites
        np.testing.assert_allclose(np.asarray(ours), ref, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- limits
@pytest.mark.parametrize("backend", BACKENDS)
def test_wolff_cluster_size_limits(backend):
    lattice = Lattice.square(8)
    N = lattice.n_sites
    key_cold, key_hot = jax.random.split(jax.random.key(SEED_LIMITS))
    cold = np.ones((1, 8, 8, 8), np.int8)
    size, s = cluster.wolff(
        key_cold, cold, np.array([1 / 0.5]), lattice=lattice, n_steps=50, backend=backend
    )
    assert np.all(np.asarray(size) > 0.99 * N), size  # the whole ordered lattice flips
    assert s.shape == cold.shape and s.dtype == jnp.int8 and isinstance(s, jax.Array)
    assert size.shape == (1, 8) and size.dtype == jnp.float32
    assert np.all(cold == 1)  # the input is not modified in place
    hot = np.where(np.random.default_rng(SEED_LIMITS).random((1, 8, 8, 8)) < 0.5, 1, -1)
    size, _ = cluster.wolff(
        key_hot,
        hot.astype(np.int8),
        np.array([1 / 50.0]),
        lattice=lattice,
        n_steps=200,
        backend=backend,
    )
    # T = 50: p = 1 - exp(-0.04); <|C|> = 1 + (# aligned neighbours) p + ... ~ 1.08
    assert np.all((np.asarray(size) >= 1.0) & (np.asarray(size) < 1.3)), size


@pytest.mark.parametrize("backend", BACKENDS)
def test_swendsen_wang_cluster_count_limits(backend):
    lattice = Lattice.square(8)
    N = lattice.n_sites
    res = run(
        jax.random.key(SEED_LIMITS),
        lattice,
        [0.5, 50.0],
        algorithm="swendsen_wang",
        n_chains=4,
        n_therm=20,
        n_meas=50,
        init="up",
        backend=backend,
    )
    n_cl = np.asarray(res.n_clusters)
    assert np.all(n_cl[0] < 1.5), n_cl  # T = 0.5: one spanning cluster
    assert np.all(n_cl[1] > 0.9 * N), n_cl  # T = 50: almost every site alone
    assert np.allclose(np.asarray(res.mean_cluster_size) * n_cl, N, rtol=1e-5)


# ----------------------------------------------------------------------------- plumbing
def test_jax_backend_same_key_same_chain_and_x64_invariance():
    """Deterministic in the key, and the same chain whether JAX's x64 mode is on or off
    (NetKet switches it on globally). Shapes shared with the other tests: no new compiles
    except the x64 ones."""
    lattice = Lattice.square(8)
    s0 = np.ones((1, 8, 8, 8), np.int8)
    wolff = functools.partial(cluster.wolff, lattice=lattice, n_steps=5, backend="jax")
    a = wolff(jax.random.key(7), s0, np.array([0.4]))
    b = wolff(jax.random.key(7), s0, np.array([0.4]))
    c = wolff(jax.random.key(8), s0, np.array([0.4]))
    with jax.enable_x64(True):
        d = wolff(jax.random.key(7), s0, np.array([0.4]))
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[1], c[1])
    assert np.array_equal(a[1], d[1]) and np.array_equal(a[0], d[0])
    assert d[0].dtype == jnp.float32 and d[1].dtype == jnp.int8

    lattice = Lattice.square(4)
    s0 = np.ones((2, 3, 4, 4), np.int8)
    sw = functools.partial(cluster.swendsen_wang, lattice=lattice, n_sweeps=3, backend="jax")
    a = sw(jax.random.key(7), s0, np.array([0.4, 0.5]))
    c = sw(jax.random.key(8), s0, np.array([0.4, 0.5]))
    with jax.enable_x64(True):
        d = sw(jax.random.key(7), s0, np.array([0.4, 0.5]))
    assert not np.array_equal(a[1], c[1])
    assert np.array_equal(a[1], d[1]) and np.array_equal(a[0], d[0])


def test_numba_backend_same_key_same_chain_and_x64_invariance():
    """The numba chains are a function of the key alone: one 64-bit seed per (temperature,
    chain) from 32-bit words of the key, so x64 mode cannot change them."""
    lattice = Lattice.square(8)
    s0 = np.ones((2, 3, 8, 8), np.int8)
    betas = np.array([0.4, 0.45])
    for step in (
        functools.partial(cluster.wolff, n_steps=5),
        functools.partial(cluster.swendsen_wang, n_sweeps=3),
    ):
        run = functools.partial(step, lattice=lattice, backend="numba")
        a = run(jax.random.key(7), s0, betas)
        b = run(jax.random.key(7), s0, betas)
        c = run(jax.random.key(8), s0, betas)
        with jax.enable_x64(True):
            d = run(jax.random.key(7), s0, betas)
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[0], b[0])
        assert not np.array_equal(a[1], c[1])
        assert np.array_equal(a[1], d[1]) and np.array_equal(a[0], d[0])
        assert d[0].dtype == jnp.float32 and d[1].dtype == jnp.int8
        # every (temperature, chain) has its own stream
        flat = np.asarray(a[1]).reshape(6, -1)
        assert len({row.tobytes() for row in flat}) == 6
        assert np.all(s0 == 1)


@pytest.mark.parametrize("algorithm", cluster.ALGORITHMS)
def test_run_gives_the_same_fields_on_both_backends(algorithm):
    ref, res = l4_run(algorithm, "jax"), l4_run(algorithm, "numba")
    for field in ("energy", "magnetization", "spins", "mean_cluster_size", "n_clusters"):
        x, y = getattr(ref, field), getattr(res, field)
        assert isinstance(y, jax.Array) and x.shape == y.shape and x.dtype == y.dtype, field
    assert (res.steps_per_meas, res.algorithm) == (ref.steps_per_meas, ref.algorithm)
    np.testing.assert_array_equal(res.temperatures, ref.temperatures)
    for r in (ref, res):  # the last record is that of the returned configuration
        e_last = cluster.energy_per_site(r.spins, Lattice.square(4))
        np.testing.assert_allclose(r.energy[-1], e_last, rtol=1e-6)
        np.testing.assert_allclose(r.magnetization[-1], np.mean(r.spins, axis=(2, 3)), rtol=1e-6)
    auto = run(jax.random.key(SEED_L4), Lattice.square(4), [2.0], algorithm=algorithm, n_meas=3)
    assert isinstance(auto.energy, jax.Array) and auto.energy.shape == (3, 1, 1)


def test_auto_backend_is_numba_only_on_a_cpu_with_numba(monkeypatch):
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    assert cluster._check_backend("auto") == "numba"
    assert cluster._check_backend("jax") == "jax"
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert cluster._check_backend("auto") == "jax"
    assert cluster._check_backend("numba") == "numba"  # asked for by name: still allowed
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    monkeypatch.setattr(cluster, "numba", None)
    assert cluster._check_backend("auto") == "jax"
    with pytest.raises(InvalidParameterError, match=r"backend='numba' needs the numba package"):
        cluster._check_backend("numba")


def test_swendsen_wang_function_and_model_input():
    lattice = Lattice.square(4)
    s = np.ones((2, 3, 4, 4), np.int8)
    n_cl, s2 = cluster.swendsen_wang(
        jax.random.key(1), s, np.array([0.4, 0.5]), lattice=lattice, n_sweeps=3
    )
    assert n_cl.shape == (2, 3) and s2.shape == s.shape and s2.dtype == jnp.int8
    assert set(np.unique(np.asarray(s2)).tolist()) <= {-1, 1}
    assert np.all((np.asarray(n_cl) >= 1) & (np.asarray(n_cl) <= 16))
    res = run(jax.random.key(2), IsingModel(lattice, J=2.0), [4.0], n_meas=5)
    ref = run(jax.random.key(2), IsingModel(lattice, J=2.0), [4.0], n_meas=5)
    assert np.array_equal(res.energy, ref.energy)
    assert res.energy.shape == (5, 1, 1) and res.energy.dtype == jnp.float32
    assert np.all(np.asarray(res.energy) >= -4.0)  # e >= -2 J with J = 2


# ----------------------------------------------------------------------------- bad input
def test_bad_input_is_rejected_with_the_reason():
    lat = Lattice.square(4)
    key = jax.random.key(0)
    one = np.ones((1, 1, 4, 4), np.int8)

    def measure(model, betas=(0.5,), spins=one, **kw):
        return cluster.measure(key, spins, np.asarray(betas), model=model, n_meas=1, **kw)

    with pytest.raises(InvalidParameterError, match=r"ferromagnetic.*expected J > 0; got J = -1"):
        measure(IsingModel(lat, J=-1.0))
    with pytest.raises(InvalidParameterError, match=r"expected J > 0; got J = 0"):
        measure(IsingModel(lat, J=0.0))
    with pytest.raises(InvalidParameterError, match=r"expected h = 0; got h = 0.1"):
        measure(IsingModel(lat, h=0.1))
    with pytest.raises(InvalidParameterError, match=r"expected h = 0"):
        cluster.wolff(key, one, [0.5], lattice=lat, n_steps=1, h=1.0)
    with pytest.raises(InvalidParameterError, match=r"uniform coupling"):
        cluster.wolff(key, one, [0.5], lattice=lat, n_steps=1, J=np.array([1.0, 2.0]))
    with pytest.raises(InvalidParameterError, match=r"positive, finite temperature; got 0"):
        Wolff().init(IsingModel(lat), [2.0, 0.0], key=key)
    with pytest.raises(InvalidParameterError, match=r"positive, finite temperature; got -1"):
        SwendsenWang().init(IsingModel(lat), -1.0, key=key)
    with pytest.raises(InvalidParameterError, match=r"expected inverse temperatures beta > 0"):
        cluster.wolff(key, one, [-0.5], lattice=lat, n_steps=1)
    with pytest.raises(ShapeError, match=r"expected spins of shape \(n_temps=2, n_chains"):
        cluster.wolff(key, one, [0.5, 0.4], lattice=lat, n_steps=1)
    with pytest.raises(ShapeError, match=r"expected spins of shape .*got \(2, 3, 3\)"):
        cluster.swendsen_wang(key, np.ones((2, 3, 3), np.int8), [0.5, 0.4], lattice=lat, n_sweeps=1)
    with pytest.raises(UnknownNameError, match=r"expected algorithm in .*got 'metropolis'"):
        measure(lat, algorithm="metropolis")
    with pytest.raises(
        UnknownNameError, match=r"expected backend in \('auto', 'jax', 'numba'\); got 'cuda'"
    ):
        measure(lat, backend="cuda")
    with pytest.raises(UnknownNameError, match=r"expected backend in .*; got None"):
        cluster.wolff(key, one, [0.5], lattice=lat, n_steps=1, backend=None)
    with pytest.raises(InvalidParameterError, match=r"backend='numba' runs outside JAX tracing"):
        jax.jit(lambda s: cluster.wolff(key, s, [0.5], lattice=lat, n_steps=1, backend="numba"))(
            one
        )
    with pytest.raises(InvalidParameterError, match=r"n_steps must be an integer >= 1; got 0"):
        cluster.wolff(key, one, [0.5], lattice=lat, n_steps=0)
    with pytest.raises(UnknownNameError, match=r"start: expected one of .*got 'cold'"):
        Wolff().init(IsingModel(lat), [2.0], key=key, start="cold")
    with pytest.raises(InvalidParameterError, match=r"expected no transverse field; got gamma"):
        measure(TransverseFieldIsing(lat, gamma=0.5))
    with pytest.raises(InvalidParameterError, match=r"expected a Lattice or a model"):
        measure("square")
    with pytest.raises(InvalidParameterError, match=r"Wolff runs on chains and square lattices"):
        Wolff().init(IsingModel(Lattice.triangular(3)), [2.0], key=key)
