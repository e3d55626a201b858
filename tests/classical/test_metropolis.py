"""Checkerboard Metropolis: exact update rule, exact bit-sliced acceptance, sampled
distributions against enumeration (chi-square) and Kaufman (error bars from tau_int)."""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from qml_phys.classical import metropolis as mp
from qml_phys.classical.observables import ising_observables
from qml_phys.errors import InvalidParameterError, ShapeError, TooLargeError, UnknownNameError
from qml_phys.physics.exact import ising_density_of_states, kaufman, onsager_tc
from qml_phys.stats import chi_square_pvalue

TC = onsager_tc()  # 2 / ln(1 + sqrt 2)
P_MIN = 1e-3  # chi-square p-value a correct sampler passes (fixed seeds)
N_SIGMA = 4.0

# Named seeds: one per test family, split locally.
SEED_ZERO_T = 101
SEED_BITS = 202
SEED_HIST = 303
SEED_KAUFMAN = 404
SEED_RANDOM_J = 505
SEED_CROSS = 606
SEED_SLOW = 707


# ----------------------------------------------------------------------------- references
def _couplings(L, J):
    if isinstance(J, tuple):
        return np.asarray(J[0], np.float64), np.asarray(J[1], np.float64)
    return np.full((L, L), float(J)), np.full((L, L), float(J))


def np_energy(spins, J=1.0, h=0.0):
    """Per-site energy of ``(..., L, L)`` spins, float64 (bonds to +x and +y, torus)."""
    s = np.asarray(spins, np.float64)
    L = s.shape[-1]
    Jx, Jy = _couplings(L, J)
    bonds = Jx * s * np.roll(s, -1, axis=-1) + Jy * s * np.roll(s, -1, axis=-2)
    field = np.asarray(h, np.float64) * s
    return -(bonds.sum(axis=(-2, -1)) + field.sum(axis=(-2, -1))) / (L * L)


def np_local_field(s, Jx, Jy, h):
    return (
        Jx * np.roll(s, -1, axis=-1)
        + np.roll(Jx, 1, axis=-1) * np.roll(s, 1, axis=-1)
        + Jy * np.roll(s, -1, axis=-2)
        + np.roll(Jy, 1, axis=-2) * np.roll(s, 1, axis=-2)
        + h
    )


def check_zero_temperature_sweep(before, after, J=1.0, h=0.0):
    """Check one checkerboard sweep at T -> 0+ (colour 0 first): a site flips if dE < 0,
    stays if dE > 0, and flips with probability 1 - 2^-8 if dE = 0. Returns (number of sites
    with dE = 0, number of those that flipped)."""
    x = np.asarray(before, np.int64)
    y = np.asarray(after, np.int64)
    L = x.shape[-1]
    Jx, Jy = _couplings(L, J)
    r, c = np.indices((L, L))
    n_free = n_flipped = 0
    for colour in (0, 1):
        mine = (r + c) % 2 == colour
        dE = 2 * x * np_local_field(x, Jx, Jy, np.asarray(h, np.float64))
        flipped = y != x
        assert np.all(flipped[mine & (dE < 0)]), f"colour {colour}: a downhill move was refused"
        assert not np.any(flipped[mine & (dE > 0)]), f"colour {colour}: an uphill move was made"
        n_free += np.count_nonzero(mine & (dE == 0))
        n_flipped += np.count_nonzero(flipped & mine & (dE == 0))
        x = np.where(mine, y, x)  # the state the other colour sees
    return n_free, n_flipped


def chi_square_p(observed, expected_prob):
    """Pearson chi-square p-value (rare bins pooled), with at least 5 bins."""
    return chi_square_pvalue(observed, expected_prob, min_bins=5)


def joint_histogram(spins):
    """Counts over the (bond sum B, magnetization M) grid of ising_density_of_states."""
    s = np.asarray(spins, np.int64).reshape(-1, *np.shape(spins)[-2:])
    L = s.shape[-1]
    dos = ising_density_of_states(L)
    B = (s * np.roll(s, -1, -1) + s * np.roll(s, -1, -2)).sum(axis=(-2, -1))
    M = s.sum(axis=(-2, -1))
    iB = np.searchsorted(-dos.bond_sums, -B)
    assert np.all(dos.bond_sums[iB] == B)
    iM = (M + L * L) // 2
    counts = np.zeros(dos.counts.shape, np.int64)
    np.add.at(counts, (iB, iM), 1)
    return dos, counts


def joint_probabilities(dos, T, J=1.0, h=0.0):
    E = -J * dos.bond_sums[:, None] - h * dos.magnetizations[None, :]
    with np.errstate(divide="ignore"):
        lw = np.log(dos.counts.astype(np.float64)) - E / T
    w = np.exp(lw - lw.max())
    return w / w.sum()


def all_states(L):
    """All ``2^(L*L)`` configurations, ``(2^N, L, L)`` int8; state index = bits, site 0 high."""
    n = L * L
    idx = np.arange(1 << n, dtype=np.int64)
    bits = (idx[:, None] >> np.arange(n - 1, -1, -1)) & 1
    return (1 - 2 * bits).astype(np.int8).reshape(-1, L, L)


def state_index(spins):
    s = np.asarray(spins).reshape(-1, np.shape(spins)[-1] ** 2)
    n = s.shape[-1]
    return ((s < 0).astype(np.int64) << np.arange(n - 1, -1, -1)).sum(axis=-1)


def equilibrated(key, L, temps, n_chains, *, n_sweeps, J=1.0, h=0.0, method="auto", hot=False):
    """Chains after ``n_sweeps`` from a cold (ordered) or hot start. Cold by default: a
    hot start quenched below T_c coarsens slowly (domain walls across the torus)."""
    k0, k1 = jax.random.split(key)
    spins = mp.init_spins(k0, len(temps), n_chains, L, hot=hot)
    return mp.sweep(k1, spins, 1.0 / np.asarray(temps), n_sweeps=n_sweeps, J=J, h=h, method=method)


# ----------------------------------------------------------------------------- hashing
def _py_lowbias32(x):
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


def _py_triple32(x):
    x ^= x >> 17
    x = (x * 0xED5AD4BB) & 0xFFFFFFFF
    x ^= x >> 11
    x = (x * 0xAC4C1B51) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x31848BAB) & 0xFFFFFFFF
    return x ^ (x >> 14)


def test_hashes_match_wellons_reference():
    xs = [0, 1, 2, 0x12345678, 0x80000000, 0xDEADBEEF, 0xFFFFFFFF]
    got_lb = np.asarray(mp._lowbias32(jnp.asarray(xs, jnp.uint32)))
    got_t3 = np.asarray(mp._triple32(jnp.asarray(xs, jnp.uint32)))
    assert got_lb.tolist() == [_py_lowbias32(x) for x in xs]
    assert got_t3.tolist() == [_py_triple32(x) for x in xs]
    assert got_t3.tolist()[1] != 1  # not the identity


def test_random_words_are_uniform(key):
    """Bytes of the stream words u = triple32(a_x ^ s_tj) over many positions and streams
    are uniform (chi-square), and neighbouring streams are uncorrelated."""
    kw = mp._key_words(key)
    a = mp._position_hash(kw, (64, 64))
    seeds = mp._stream_seeds(kw, mp._sweep_seed(kw, jnp.uint32(7)), 0, 8)
    u = np.asarray(mp._triple32(a[None] ^ seeds[:, None, None])).astype(np.uint64)
    for shift in (0, 8, 16, 24):
        counts = np.bincount(((u >> np.uint64(shift)) & np.uint64(255)).ravel(), minlength=256)
        assert chi_square_p(counts, np.full(256, 1 / 256)) > P_MIN
    x = u.astype(np.float64) / 2.0**32 - 0.5
    corr = np.mean(x[:-1] * x[1:]) / np.var(x)
    assert abs(corr) < N_SIGMA / math.sqrt(x[1:].size)


# ---------------------------------------------------------------------------- packed acceptance
def _reference_accept(classes, a, seeds, T4, T8, G, rounds):
    """Spin by spin, the rule of ``_packed_accept`` written out: ``u`` is assembled from
    the bit-slice words (top 8 bits), then from the round words (low 24 bits of the spin's
    rank-th word among the undecided spins of its word) or, when some word has more than
    ``rounds`` undecided spins, from bit-slice words 8..31 for the rest. Returns the
    acceptance words, the number of undecided spins and whether the fall-back ran."""
    a = np.asarray(a)
    words = np.stack(
        [np.asarray(mp._triple32(jnp.asarray(a) ^ seeds[k])) for k in range(32 + rounds)]
    ).astype(np.uint64)
    bits = np.arange(32, dtype=np.uint64)
    slice_bits = (words[:32, ..., None] >> bits) & np.uint64(1)  # (32, *shape, 32)
    u = np.zeros(slice_bits.shape[1:], np.uint64)
    for k in range(32):
        u |= slice_bits[k] << np.uint64(31 - k)
    P = a.shape[-1]
    lattice = np.arange(P)[:, None] * G + np.arange(32) % G  # (P, 32): bit -> lattice
    T = np.where(classes == 1, T4[lattice], T8[lattice]).astype(np.uint64)
    hi = np.uint64(0xFF000000)
    open_ = ((classes == 0) | (classes == 1)) & ((u & hi) == (T & hi))
    rank = np.cumsum(open_, axis=-1) - 1
    fallback = bool(np.any(open_ & (rank >= rounds)))
    u_low = u & np.uint64(0xFFFFFF)
    for j in range(rounds):
        mine = open_ & (rank == j)
        u_low = np.where(mine, (words[32 + j][..., None] & np.uint64(0xFFFFFF)), u_low)
    accept = np.where(
        classes == 3,
        True,
        np.where(
            classes == 2, u < 0xFF000000, np.where(open_, u_low < (T & np.uint64(0xFFFFFF)), u < T)
        ),
    )
    words_out = np.sum(accept.astype(np.uint64) << bits, axis=-1).astype(np.uint32)
    return words_out, int(open_.sum()), fallback


@pytest.mark.parametrize("G, rounds", [(1, 4), (1, 1), (4, 2), (1, 0)])
def test_packed_acceptance_is_exact_32_bit_comparison(G, rounds):
    """``_packed_accept`` equals ``u < T`` spin by spin on all 32 bits of ``u``, for
    thresholds at the edges (0, 1, 2^32 - 1, byte boundaries) and equal to a drawn ``u``
    (decided only by the last bit), with one or several lattices per word, through the
    round words and the bit-slice fall-back."""
    rng = np.random.default_rng(SEED_BITS + 10 * G + rounds)
    shape = (64, 4, 8)  # (L, W, P): 2048 words, 8 packs of G lattices
    P = shape[-1]
    classes = rng.integers(0, 4, size=shape + (32,))  # unsatisfied bonds 0, 1, 2 or >= 3
    pack = lambda m: jnp.asarray(
        np.sum(m.astype(np.uint64) << np.arange(32, dtype=np.uint64), axis=-1).astype(np.uint32)
    )
    v0, v1, v2, ge3 = (pack(classes == i) for i in range(4))
    a = jnp.asarray(rng.integers(0, 2**32, size=shape, dtype=np.uint64).astype(np.uint32))
    seeds = jnp.asarray(rng.integers(0, 2**32, size=32 + rounds, dtype=np.uint64).astype(np.uint32))
    # u of some spins (row 0), to use as thresholds: ties decided at the last bit
    top = np.stack([np.asarray(mp._triple32(a[0] ^ seeds[k])) for k in range(32)])
    u_of = lambda w, p, b: sum(int((top[k][w, p] >> b) & 1) << (31 - k) for k in range(32))
    R = P * G
    T4 = rng.integers(0, 2**32, size=R, dtype=np.uint64)
    T8 = rng.integers(0, 2**32, size=R, dtype=np.uint64)
    T4[:6] = [0, 1, 2**32 - 1, 0x00FFFFFF, 0xFF000000, 0x6B4F0000]
    T8[:6] = [2**32 - 1, 0, 0x80000000, 0x01000000, 0x7FFFFFFF, 12345]
    for p, b in ((5, 3), (6, 9), (7, 31)):  # lattice of bit b in pack p: p * G + b % G
        T4[p * G + b % G] = u_of(0, p, b) + (p == 6)
        classes[0, 0, p, b] = 1
        T8[p * G + b % G] = u_of(1, p, b)
        classes[0, 1, p, b] = 0
    v0, v1, v2, ge3 = (pack(classes == i) for i in range(4))
    params = tuple(jnp.asarray(x) for x in mp._packed_params(T4, T8, G))
    got = jax.jit(partial(mp._packed_accept, G=G, rounds=rounds))(v0, v1, v2, ge3, a, seeds, params)
    ref, n_open, fallback = _reference_accept(classes, a, seeds, T4, T8, G, rounds)
    np.testing.assert_array_equal(np.asarray(got), ref)
    assert n_open >= 100  # the late bits really were needed
    assert fallback == (rounds < 2)  # both ways of finishing ran in this parametrisation


def test_thresholds_are_floor_p_two32():
    p = np.array([0.0, 2.0**-33, 2.0**-32, 0.5, 1 - 2.0**-32, 1 - 2.0**-40, math.exp(-8 / 2.269)])
    got = mp._thresholds(p)
    assert got.dtype == np.uint32
    assert got.tolist() == [
        0,
        0,
        1,
        2**31,
        2**32 - 1,
        2**32 - 1,
        math.floor(math.exp(-8 / 2.269) * 2**32),
    ]


# ----------------------------------------------------------------------------- layouts
@pytest.mark.parametrize("L", [6, 64])
def test_pack_unpack_round_trip(L, key):
    spins = mp.init_spins(key, 2, 3, L)  # 6 lattices: padded when G does not divide 6
    B, G, W = mp.packing(L)
    assert B * G == 32 and B * W == L // 2
    S = jax.jit(mp._split)(spins)
    assert S.shape == (2, L, L // 2, 6)
    np.testing.assert_array_equal(S[0, 1, 0], spins[..., 1, 1].ravel())  # (r + c) even
    np.testing.assert_array_equal(S[1, 1, 0], spins[..., 1, 0].ravel())
    np.testing.assert_array_equal(jax.jit(mp._merge, static_argnums=(1, 2))(S, 2, 3), spins)
    X = jax.jit(mp._pack, static_argnums=1)(S, G)
    assert X.dtype == jnp.uint32 and X.shape == (2, L, W, -(-6 // G))
    np.testing.assert_array_equal(jax.jit(mp._unpack, static_argnums=(1, 2))(X, G, 6), S)


def test_packing_layouts():
    assert mp.packing(1024) == (32, 1, 16)
    assert mp.packing(32) == (16, 2, 1)
    assert mp.packing(4) == (2, 16, 1)
    assert mp.packing(6) == (1, 32, 3)


# ----------------------------------------------------------------------------- exact update rule
ZERO_T_CASES = [
    # (engine, L, J, h): at T -> 0+ only dE = 0 moves are random
    ("packed", 2, 1.0, 0.0),
    ("packed", 6, 1.0, 0.0),
    ("packed", 12, -1.0, 0.0),
    ("packed", 192, 1.0, 0.0),
    ("general", 2, 1.0, 0.0),
    ("general", 6, 1.0, 0.5),
    ("general", 12, -1.0, 0.0),
    ("general", 6, "random", "random"),
]


@pytest.mark.parametrize("method, L, J, h", ZERO_T_CASES)
def test_zero_temperature_sweep_matches_numpy(method, L, J, h):
    """At beta = 1000 every uphill move is refused and every downhill one made; dE = 0
    moves are made with probability 1 - 2^-8. The trace holds the energy and magnetization of the
    final configuration. Pins neighbours, colours, couplings, fields and packing."""
    rng = np.random.default_rng(SEED_ZERO_T + L)
    if J == "random":  # odd multiples of 1/8 and 1/16: dE exact in float32 and never 0
        J = tuple((2 * rng.integers(-8, 8, size=(2, L, L)) + 1) / 8.0)
        h = (2 * rng.integers(-4, 4, size=(L, L)) + 1) / 16.0
    spins = jnp.asarray(rng.choice(np.array([-1, 1], np.int8), size=(2, 8, L, L)))
    out, trace = mp.run(
        jax.random.key(SEED_ZERO_T),
        spins,
        np.array([1000.0, 2000.0]),
        n_sweeps=1,
        J=J,
        h=h,
        method=method,
    )
    assert out.dtype == jnp.int8 and out.shape == spins.shape
    n_free, n_flipped = check_zero_temperature_sweep(spins, out, J, h)
    p = 1 - 2.0**-8
    assert abs(n_flipped - n_free * p) <= N_SIGMA * math.sqrt(n_free * p * (1 - p)) + 1
    if isinstance(J, tuple) or np.any(np.asarray(h) != 0):
        assert n_free == 0
    else:
        assert n_free > 20
    assert trace.energy.shape == (1, 2, 8) and trace.energy.dtype == jnp.float32
    np.testing.assert_allclose(trace.energy[0], np_energy(out, J, h), atol=1e-6)
    np.testing.assert_allclose(trace.magnetization[0], np.mean(out, axis=(-2, -1)), atol=1e-6)
    assert np.any(np.asarray(out) != np.asarray(spins))


@pytest.mark.parametrize("method", ["packed", "general"])
def test_stripe_cycle_is_left(method):
    """Every site of the diagonal-stripe state has dE = 0; with acceptance 1 at dE = 0 the
    checkerboard chain would flip between it and its negative forever (reducible). With
    1 - 2^-8 each of 64 chains leaves within 200 sweeps (P(stay) = e^-50)."""
    L = 8
    r, c = np.indices((L, L))
    stripe = np.where((r + c) % 4 < 2, 1, -1).astype(np.int8)
    assert np.all(np_local_field(stripe, *_couplings(L, 1.0), 0.0) == 0)
    spins = jnp.asarray(np.broadcast_to(stripe, (1, 64, L, L)))
    out = np.asarray(
        mp.sweep(
            jax.random.key(SEED_ZERO_T), spins, np.array([1 / 1.5]), n_sweeps=200, method=method
        )
    )
    trapped = np.all(out == stripe, axis=(-2, -1)) | np.all(out == -stripe, axis=(-2, -1))
    assert not np.any(trapped)


def test_trace_matches_final_spins_at_finite_temperature(key):
    for method in ("packed", "general"):
        spins = mp.init_spins(key, 2, 5, 8)
        out, trace = mp.run(
            jax.random.key(SEED_ZERO_T),
            spins,
            np.array([0.3, 0.6]),
            n_sweeps=6,
            measure_every=3,
            method=method,
        )
        assert trace.energy.shape == (2, 2, 5)
        np.testing.assert_allclose(trace.energy[-1], np_energy(out), atol=1e-6)
        np.testing.assert_allclose(trace.magnetization[-1], np.mean(out, axis=(-2, -1)), atol=1e-6)


def test_same_key_same_chain_and_x64_independent(key):
    """Fixed by the key alone: equal with JAX x64 on and off; another key differs."""
    spins = mp.init_spins(key, 2, 2, 8)
    betas = np.array([0.4, 0.5])
    for method in ("packed", "general"):
        a = mp.sweep(jax.random.key(1), spins, betas, n_sweeps=5, method=method)
        with jax.enable_x64(True):
            b = mp.sweep(jax.random.key(1), spins, betas, n_sweeps=5, method=method)
        c = mp.sweep(jax.random.key(2), spins, betas, n_sweeps=5, method=method)
        np.testing.assert_array_equal(a, b)
        assert np.any(np.asarray(a) != np.asarray(c))


# ----------------------------------------------------------------------------- distributions
HIST_TEMPS = (1.5, TC, 3.5)


@pytest.mark.parametrize("method", ["packed", "general"])
def test_l4_joint_histogram_matches_enumeration(method):
    """(bond sum, magnetization) histogram of 16384 independent chains per temperature at
    L = 4 against exact enumeration. One sample per chain, so samples are independent and
    the plain chi-square applies. Hot starts: they would also reveal absorbing cycles."""
    spins = equilibrated(
        jax.random.key(SEED_HIST), 4, HIST_TEMPS, 16384, n_sweeps=200, method=method, hot=True
    )
    for i, T in enumerate(HIST_TEMPS):
        dos, counts = joint_histogram(spins[i])
        p = chi_square_p(counts.ravel(), joint_probabilities(dos, T).ravel())
        assert p > P_MIN, f"T={T}: p={p:.2e}"


def test_l4_field_histogram_matches_enumeration():
    """Uniform field h = 0.3 (general engine, exact threshold table). T >= 2: at T = 1.5 the
    chains that ordered against the field need far more than 10^3 sweeps to turn over."""
    h, temps = 0.3, (2.0, TC, 3.5)
    spins = equilibrated(jax.random.key(SEED_HIST + 1), 4, temps, 16384, n_sweeps=300, h=h)
    for i, T in enumerate(temps):
        dos, counts = joint_histogram(spins[i])
        p = chi_square_p(counts.ravel(), joint_probabilities(dos, T, h=h).ravel())
        assert p > P_MIN, f"T={T}: p={p:.2e}"
        m = np.asarray(spins[i], np.float64).mean(axis=(-2, -1))
        assert m.mean() > 0.05  # the field polarises


def test_l4_random_couplings_and_fields_match_brute_force():
    """Gaussian per-bond couplings (both signs) and per-site fields: the distribution over
    all 2^16 states, in 40 equal-probability bins of energy, against brute force."""
    L, temps = 4, (1.5, 3.0)  # colder, this frustrated sample needs > 3e4 sweeps to mix
    rng = np.random.default_rng(SEED_RANDOM_J)
    J = (rng.normal(0.5, 1.0, (L, L)), rng.normal(0.5, 1.0, (L, L)))
    h = rng.normal(0.0, 0.5, (L, L))
    states = all_states(L)
    E = np_energy(states, J, h) * L * L
    spins = equilibrated(jax.random.key(SEED_RANDOM_J), L, temps, 16384, n_sweeps=1000, J=J, h=h)
    for i, T in enumerate(temps):
        w = np.exp(-(E - E.min()) / T)
        prob = w / w.sum()
        order = np.argsort(E, kind="stable")
        bins = np.empty(E.size, np.int64)
        bins[order] = np.minimum((np.cumsum(prob[order]) * 40).astype(np.int64), 39)
        expected = np.bincount(bins, weights=prob, minlength=40)
        observed = np.bincount(bins[state_index(spins[i])], minlength=40)
        p = chi_square_p(observed, expected)
        assert p > P_MIN, f"T={T}: p={p:.2e}"


def _observables(trace, temps, n_sites, i, names=("energy", "specific_heat")):
    """Estimates from ``ising_observables`` for temperature ``i``; the series of every
    observable in ``names`` must be at least 50 tau_int long (error bars are reliable).
    The signed magnetization, which tunnels slowly below T_c, is not used."""
    e = np.asarray(trace.energy[:, i]).T
    obs = ising_observables(
        e, np.asarray(trace.magnetization[:, i]).T, T=temps[i], n_sites=n_sites, warn=False
    )
    for name in names:
        assert e.shape[1] >= 50 * obs[name].tau_int, f"{name}: {obs[name]} too short"
    return obs


@pytest.mark.parametrize("method", ["packed", "general"])
@pytest.mark.parametrize("L", [8, 16])
def test_energy_and_specific_heat_match_kaufman(method, L):
    temps = (2.0, TC, 3.0)
    key = jax.random.key(SEED_KAUFMAN + L)
    k0, k1 = jax.random.split(key)
    spins = equilibrated(k0, L, temps, 32, n_sweeps=500, method=method)
    _, trace = mp.run(k1, spins, 1.0 / np.asarray(temps), n_sweeps=6000, method=method)
    exact = kaufman(L, np.asarray(temps))
    for i, T in enumerate(temps):
        obs = _observables(trace, temps, L * L, i)
        for name, ref in (
            ("energy", exact.energy_per_site[i]),
            ("specific_heat", exact.specific_heat_per_site[i]),
        ):
            est = obs[name]
            assert abs(est.mean - ref) < N_SIGMA * est.error, f"T={T} {name}: {est} vs {ref}"
            assert est.error < 0.05 * abs(ref), f"T={T} {name}: error bar too large: {est}"


def test_antiferromagnet_mirrors_ferromagnet():
    """J = -1 on the bipartite torus maps to J = +1 (staggered gauge): same energies."""
    L, temps = 8, (2.0, 3.0)
    key = jax.random.key(SEED_KAUFMAN + 1)
    k0, k1 = jax.random.split(key)
    spins = equilibrated(k0, L, temps, 16, n_sweeps=300, J=-1.0)
    _, trace = mp.run(k1, spins, 1.0 / np.asarray(temps), n_sweeps=2000, J=-1.0)
    exact = kaufman(L, np.asarray(temps))
    for i in range(len(temps)):
        est = _observables(trace, temps, L * L, i, ("energy",))["energy"]
        assert abs(est.mean - exact.energy_per_site[i]) < N_SIGMA * est.error
        assert np.all(np.abs(np.asarray(trace.magnetization[:, i])) < 0.9)  # not ordered


def _cross_check(L, temps, n_chains, n_therm, n_meas, seed):
    """Packed vs general engine on the same lattice: energy and |m| agree within errors,
    and the energy agrees with Kaufman."""
    exact = kaufman(L, np.asarray(temps))
    results = {}
    for method in ("packed", "general"):
        k0, k1 = jax.random.split(jax.random.key(seed))
        spins = equilibrated(k0, L, temps, n_chains, n_sweeps=n_therm, method=method)
        _, trace = mp.run(k1, spins, 1.0 / np.asarray(temps), n_sweeps=n_meas, method=method)
        results[method] = [
            _observables(trace, temps, L * L, i, ("energy", "abs_m")) for i in range(len(temps))
        ]
    for i, T in enumerate(temps):
        a, b = results["packed"][i], results["general"][i]
        for name in ("energy", "abs_m"):
            diff, err = a[name].mean - b[name].mean, math.hypot(a[name].error, b[name].error)
            assert abs(diff) < N_SIGMA * err, f"T={T} {name}: {a[name]} vs {b[name]}"
        for r in (a, b):
            e = r["energy"]
            assert abs(e.mean - exact.energy_per_site[i]) < N_SIGMA * e.error, f"T={T}: {e}"


def test_packed_and_general_agree_on_l32():
    _cross_check(32, (2.0, 3.0), 8, 500, 2000, SEED_CROSS)


@pytest.mark.slow
def test_packed_and_general_agree_on_l64():
    _cross_check(64, (2.0, 2.6), 16, 2000, 20000, SEED_SLOW)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["packed", "general"])
def test_l32_kaufman_high_precision(method):
    temps = (2.0, TC, 2.6)
    L = 32
    k0, k1 = jax.random.split(jax.random.key(SEED_SLOW + 1))
    spins = equilibrated(k0, L, temps, 64, n_sweeps=5000, method=method)
    _, trace = mp.run(
        k1, spins, 1.0 / np.asarray(temps), n_sweeps=40000, measure_every=2, method=method
    )
    exact = kaufman(L, np.asarray(temps))
    for i, T in enumerate(temps):
        obs = _observables(trace, temps, L * L, i)
        for name, ref in (
            ("energy", exact.energy_per_site[i]),
            ("specific_heat", exact.specific_heat_per_site[i]),
        ):
            est = obs[name]
            assert abs(est.mean - ref) < N_SIGMA * est.error, f"T={T} {name}: {est} vs {ref}"
        assert obs["energy"].error < 5e-4


@pytest.mark.slow
@pytest.mark.parametrize("method", ["packed", "general"])
def test_l4_histogram_many_samples(method):
    """A harder chi-square: 2^18 independent chains per temperature."""
    spins = equilibrated(
        jax.random.key(SEED_SLOW + 2), 4, HIST_TEMPS, 1 << 18, n_sweeps=200, method=method, hot=True
    )
    for i, T in enumerate(HIST_TEMPS):
        dos, counts = joint_histogram(spins[i])
        assert chi_square_p(counts.ravel(), joint_probabilities(dos, T).ravel()) > P_MIN


# ----------------------------------------------------------------------------- dispatch and errors
def test_auto_dispatch(key):
    spins = mp.init_spins(key, 3, 4, 8)
    betas = np.array([0.3, 0.44, 0.6])
    auto = mp.sweep(jax.random.key(3), spins, betas, n_sweeps=4)
    packed = mp.sweep(jax.random.key(3), spins, betas, n_sweeps=4, method="packed")
    general = mp.sweep(jax.random.key(3), spins, betas, n_sweeps=4, method="general")
    np.testing.assert_array_equal(auto, packed)
    assert np.any(np.asarray(packed) != np.asarray(general))  # different random streams
    h_auto = mp.sweep(jax.random.key(3), spins, betas, n_sweeps=4, h=0.1)
    h_general = mp.sweep(jax.random.key(3), spins, betas, n_sweeps=4, h=0.1, method="general")
    np.testing.assert_array_equal(h_auto, h_general)


def test_init_spins(key):
    hot = mp.init_spins(key, 2, 3, 8)
    assert hot.shape == (2, 3, 8, 8) and hot.dtype == jnp.int8
    assert set(np.unique(hot).tolist()) == {-1, 1}
    cold = mp.init_spins(key, 1, 1, 4, hot=False)
    assert np.all(np.asarray(cold) == 1)


BAD_INPUTS = [
    (dict(L=5), InvalidParameterError, r"expected an even L .*got L=5"),
    (dict(L=0), InvalidParameterError, r"L must be an integer >= 2; got 0"),
    (dict(L=-4), InvalidParameterError, r"L must be an integer >= 2; got -4"),
    (dict(spins=np.ones((1, 1, 5, 5), np.int8)), InvalidParameterError, r"got L=5"),
    (
        dict(spins=np.ones((1, 2, 4, 4), np.float32)),
        ShapeError,
        r"expected spins of dtype int8 .*got float32",
    ),
    (
        dict(spins=np.ones((2, 4, 4), np.int8)),
        ShapeError,
        r"expected spins of shape \(n_temps, n_chains, L, L\); got \(2, 4, 4\)",
    ),
    (dict(spins=np.ones((1, 2, 4, 6), np.int8)), ShapeError, r"got \(1, 2, 4, 6\)"),
    (
        dict(spins=np.zeros((1, 2, 4, 4), np.int8)),
        InvalidParameterError,
        r"expected spins with values in \{-1, \+1\}",
    ),
    (dict(betas=[0.0]), InvalidParameterError, r"expected inverse temperatures beta > 0"),
    (dict(betas=[-0.5]), InvalidParameterError, r"beta > 0 .*got \[-0.5\]"),
    (dict(betas=[np.nan]), InvalidParameterError, r"beta > 0 and finite"),
    (
        dict(betas=[0.4, 0.5]),
        ShapeError,
        r"expected betas of shape \(n_temps,\) = \(1,\); got \(2,\)",
    ),
    (
        dict(h=0.5, method="packed"),
        InvalidParameterError,
        r"expected h = 0 and a uniform nonzero J for method='packed'.*got J=1.0, h=0.5",
    ),
    (
        dict(J=(np.ones((4, 4)), np.ones((4, 4))), method="packed"),
        InvalidParameterError,
        r"method='packed'.*got J=per-bond",
    ),
    (dict(J=0.0, method="packed"), InvalidParameterError, r"got J=0.0"),
    (dict(method="heatbath"), UnknownNameError, r"expected method in .*got 'heatbath'"),
    (dict(J=np.ones((4, 4))), ShapeError, r"expected J as a scalar or a pair \(Jx, Jy\)"),
    (
        dict(J=(np.ones((4, 4)), np.ones((3, 4)))),
        ShapeError,
        r"expected Jy as a scalar or of shape \(4, 4\); got \(3, 4\)",
    ),
    (dict(h=np.ones(4)), ShapeError, r"expected h as a scalar or of shape \(4, 4\); got \(4,\)"),
    (dict(h=np.inf), InvalidParameterError, r"expected a finite h; got inf"),
    (dict(n_sweeps=0), InvalidParameterError, r"n_sweeps must be an integer >= 1; got 0"),
    (
        dict(n_sweeps=10, measure_every=3),
        InvalidParameterError,
        r"expected n_sweeps to be a multiple of measure_every=3; got n_sweeps=10",
    ),
]


@pytest.mark.parametrize("bad, error, match", BAD_INPUTS)
def test_bad_inputs(bad, error, match, key):
    args = dict(spins=None, betas=[0.4], n_sweeps=2, measure_every=1, J=1.0, h=0.0, method="auto")
    L = bad.pop("L", None)
    args.update(bad)
    with pytest.raises(error, match=match):
        if L is not None:
            mp.init_spins(key, 1, 1, L)
        spins = args.pop("spins")
        spins = mp.init_spins(key, 1, 2, 4) if spins is None else spins
        mp.run(key, spins, args.pop("betas"), **args)


def test_counter_space_limit(key):
    spins = jax.ShapeDtypeStruct((4096, 1, 2048, 2048), jnp.int8)  # never materialised
    with pytest.raises(TooLargeError, match=r"expected n_temps \* n_chains \* L\^2 / 2 < 2\*\*32"):
        mp._dispatch(
            key,
            spins,
            np.ones(4096),
            n_sweeps=1,
            measure_every=1,
            n_meas=0,
            J=1.0,
            h=0.0,
            method="auto",
        )
