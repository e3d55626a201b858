"""Exact references against independent exact answers.

Each reference is checked against something computed a different way: Kaufman against
complete enumeration and transfer matrices; Onsager against his double integral, the
critical-point closed forms, low/high-temperature series and Kaufman at large L; the
free-fermion TFIM against exact diagonalisation built here with scipy.sparse.kron;
MaxCut against hand-solved graphs and a slow pure-Python search.
"""

import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.integrate
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from qml_phys.errors import InvalidParameterError, TooLargeError
from qml_phys.physics import exact
from qml_phys.physics.lattice import Graph, Lattice

TC = 2.0 / math.log(1.0 + math.sqrt(2.0))
CATALAN = 0.915965594177219015054603514932384110774
# A temperature grid crossing T_c, with T_c itself (as a float) included.
TEMPS = np.array([0.5, 1.0, 2.0, TC, 2.5, 3.5, 10.0])


# --------------------------------------------------------------------------- helpers
def brute_force_ising(lattice, T, J=1.0, h=0.0):
    """Slow, obvious Boltzmann averages over every configuration (N <= 12)."""
    edges = lattice.edges
    N = lattice.n_sites
    Es, Ms = [], []
    for conf in itertools.product((1, -1), repeat=N):
        s = np.array(conf)
        Es.append(-J * np.sum(s[edges[:, 0]] * s[edges[:, 1]]) - h * s.sum())
        Ms.append(s.sum() / N)
    E, m = np.array(Es, float), np.array(Ms, float)
    w = np.exp(-(E - E.min()) / T)
    Z = w.sum()
    p = w / Z
    avg = lambda x: float(np.sum(p * x))
    e1, e2 = avg(E), avg(E**2)
    return {
        "ln_z_per_site": (math.log(Z) - E.min() / T) / N,
        "energy_per_site": e1 / N,
        "specific_heat_per_site": (e2 - e1**2) / T**2 / N,
        "m": avg(m),
        "abs_m": avg(abs(m)),
        "m2": avg(m**2),
        "m4": avg(m**4),
        "susceptibility_per_site": N / T * (avg(m**2) - avg(abs(m)) ** 2),
    }


_I = sp.identity(2, format="csr")
_X = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
_Z = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, -1.0]]))


def _product(N, factors):
    """Kronecker product with ``factors[i]`` on site i (site 0 = most significant)."""
    out = sp.identity(1, format="csr")
    for i in range(N):
        out = sp.kron(out, factors.get(i, _I), format="csr")
    return out


def tfim_chain_parts(N):
    """(sum_i Z_i Z_{i+1}, sum_i X_i) of the periodic chain with N bonds (N = 2: Z0Z1 twice)."""
    zz = sp.csr_matrix((2**N, 2**N))
    for i in range(N):
        zz = zz + _product(N, {i: _Z, (i + 1) % N: _Z} if N > 2 else {0: _Z, 1: _Z})
    xx = sp.csr_matrix((2**N, 2**N))
    for i in range(N):
        xx = xx + _product(N, {i: _X})
    return zz, xx


def maxcut_reference(n, edges, weights):
    """Pure-Python search over every assignment."""
    best = -math.inf
    for conf in itertools.product((1, -1), repeat=n):
        cut = sum(w for (i, j), w in zip(edges, weights, strict=True) if conf[i] != conf[j])
        best = max(best, cut)
    return best


def cut_value(edges, weights, spins):
    return sum(w for (i, j), w in zip(edges, weights, strict=True) if spins[i] != spins[j])


# --------------------------------------------------------------------------- Onsager, Yang
def test_onsager_tc():
    assert exact.onsager_tc() == pytest.approx(2.269185314213022, rel=1e-15)
    assert exact.onsager_tc(2.5) == pytest.approx(2.5 * 2.269185314213022, rel=1e-15)


def test_onsager_at_tc_closed_forms():
    # ln Z / N = ln(2)/2 + 2G/pi (G: Catalan's constant), u = -sqrt(2) J, c = inf, m = 0.
    th = exact.onsager(TC)
    assert th.ln_z_per_site == pytest.approx(0.5 * math.log(2) + 2 * CATALAN / math.pi, rel=1e-14)
    assert th.energy_per_site == pytest.approx(-math.sqrt(2), rel=1e-15)
    assert th.specific_heat_per_site == math.inf
    assert th.magnetization == 0.0
    assert th.free_energy_per_site == pytest.approx(-TC * th.ln_z_per_site, rel=1e-15)
    th2 = exact.onsager(exact.onsager_tc(2.0), J=2.0)
    assert th2.energy_per_site == pytest.approx(-2 * math.sqrt(2), rel=1e-15)
    assert th2.specific_heat_per_site == math.inf


@pytest.mark.parametrize("T", [1.5, 2.0, 2.6, 4.0])
def test_onsager_ln_z_matches_double_integral(T):
    # ln Z / N = ln 2 + 1/(8 pi^2) int int ln[cosh^2 2K - sinh 2K (cos a + cos b)] da db,
    # by the periodic trapezoid rule (spectrally accurate away from T_c).
    K = 1.0 / T
    n = 512
    th = 2 * np.pi * np.arange(n) / n
    ca = np.cos(th)
    integrand = np.log(np.cosh(2 * K) ** 2 - np.sinh(2 * K) * (ca[:, None] + ca[None, :]))
    ref = math.log(2) + 0.5 * integrand.mean()
    assert exact.onsager(T).ln_z_per_site == pytest.approx(ref, abs=1e-13)


def test_onsager_energy_and_specific_heat_are_derivatives():
    T = np.array([1.0, 1.6, 2.0, 2.2, 2.4, 3.0, 6.0])
    h = 1e-5
    th, up, dn = exact.onsager(T), exact.onsager(T + h), exact.onsager(T - h)
    u_num = T**2 * (up.ln_z_per_site - dn.ln_z_per_site) / (2 * h)  # u = T^2 d(lnZ/N)/dT
    c_num = (up.energy_per_site - dn.energy_per_site) / (2 * h)  # c = du/dT
    np.testing.assert_allclose(th.energy_per_site, u_num, rtol=0, atol=1e-8)
    np.testing.assert_allclose(th.specific_heat_per_site, c_num, rtol=1e-7)


def test_onsager_low_and_high_temperature_series():
    # Low T, q = exp(-2K) per broken bond: one flipped spin (4 bonds, N ways), a domino
    # (6 bonds, 2N), and at 8 bonds two separate flips, straight and bent trominoes and the
    # 2x2 square: ln Z / N = 2K + q^4 + 2 q^6 + 9/2 q^8 + O(q^10).
    K = 2.0
    q = math.exp(-2 * K)
    ref = 2 * K + q**4 + 2 * q**6 + 4.5 * q**8
    assert exact.onsager(1 / K).ln_z_per_site == pytest.approx(ref, abs=1e-15)
    # High T, by duality with w = tanh K per bond of a closed loop:
    # ln Z / N = ln 2 + 2 ln cosh K + w^4 + 2 w^6 + 9/2 w^8 + O(w^10); c -> 2K^2.
    K = 0.01
    w = math.tanh(K)
    th = exact.onsager(1 / K)
    ref = math.log(2) + 2 * math.log(math.cosh(K)) + w**4 + 2 * w**6 + 4.5 * w**8
    assert th.ln_z_per_site == pytest.approx(ref, abs=1e-15)  # resolves 2 w^6 = 2e-12
    assert th.specific_heat_per_site == pytest.approx(2 * K**2, rel=1e-3)
    assert th.magnetization == 0.0


def test_yang_magnetization():
    assert exact.yang_magnetization(2.0) == pytest.approx(
        (1 - math.sinh(1.0) ** -4) ** 0.125, rel=1e-15
    )
    # Yang's low-temperature series, u = exp(-4K): m = 1 - 2u^2 - 8u^3 - 34u^4 - O(u^5).
    u = math.exp(-4 / 0.5)
    assert exact.yang_magnetization(0.5) == pytest.approx(
        1 - 2 * u**2 - 8 * u**3 - 34 * u**4, abs=1e-14
    )
    T = np.array([[0.05, 1.0, 2.0], [2.26, TC, 3.0]])
    m = exact.yang_magnetization(T)
    assert m.shape == T.shape
    assert m[0, 0] == 1.0 and m[1, 1] == 0.0 and m[1, 2] == 0.0
    below = exact.yang_magnetization(np.linspace(0.5, TC * (1 - 1e-9), 50))
    assert np.all(np.diff(below) < 0) and below[-1] > 0
    # Critical exponent beta = 1/8: m ~ (1 - T/T_c)^{1/8}, read off from two reduced temperatures.
    t1, t2 = 1e-6, 1e-8
    m1, m2 = exact.yang_magnetization([TC * (1 - t1), TC * (1 - t2)])
    assert math.log(m1 / m2) / math.log(t1 / t2) == pytest.approx(0.125, rel=1e-4)
    assert exact.yang_magnetization(4.0, J=2.0) == pytest.approx(exact.yang_magnetization(2.0))


# --------------------------------------------------------------------------- Kaufman
@pytest.mark.parametrize("L", [2, 3, 4])
def test_kaufman_matches_enumeration(L):
    ka = exact.kaufman(L, TEMPS)
    en = exact.enumerate_ising(L, TEMPS)
    for field in ("ln_z_per_site", "energy_per_site", "specific_heat_per_site"):
        np.testing.assert_allclose(getattr(ka, field), getattr(en, field), rtol=0, atol=1e-12)
    assert np.all(np.isnan(ka.magnetization))
    # J != 1: the couplings scale through K = J/T.
    ka2, en2 = exact.kaufman(L, 3.0, J=2.5), exact.enumerate_ising(L, 3.0, J=2.5)
    assert ka2.energy_per_site == pytest.approx(en2.energy_per_site, abs=1e-12)
    assert ka2.specific_heat_per_site == pytest.approx(en2.specific_heat_per_site, abs=1e-12)


@pytest.mark.parametrize("L", [2, 3, 4, 5, 6])
def test_kaufman_matches_transfer_matrix(L):
    ka = exact.kaufman(L, TEMPS)
    tm = exact.transfer_matrix_ising(L, TEMPS)
    for field in (
        "ln_z_per_site",
        "free_energy_per_site",
        "energy_per_site",
        "specific_heat_per_site",
    ):
        np.testing.assert_allclose(getattr(ka, field), getattr(tm, field), rtol=0, atol=1e-12)


def test_transfer_matrix_matches_enumeration_with_doubled_bonds():
    # L = 2: each pair of sites is joined by two bonds in both directions.
    en, tm = exact.enumerate_ising(2, TEMPS), exact.transfer_matrix_ising(2, TEMPS)
    np.testing.assert_allclose(tm.ln_z_per_site, en.ln_z_per_site, rtol=0, atol=1e-13)
    np.testing.assert_allclose(tm.specific_heat_per_site, en.specific_heat_per_site, atol=1e-13)


def test_kaufman_against_high_precision_evaluation():
    # The same product formula at 50 digits with mpmath's numerical derivatives: checks the
    # analytic derivatives and the log-space evaluation, not the formula itself.
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50

    def ln_z(L, K):
        Kd = mp.atanh(mp.e ** (-2 * K))
        c0 = mp.cosh(2 * K) * mp.cosh(2 * Kd)
        g = [2 * (K - Kd)] + [mp.acosh(c0 - mp.cos(mp.pi * l / L)) for l in range(1, 2 * L)]
        zs = [
            mp.fprod([f(L * g[2 * r + o] / 2) for r in range(L)])
            for o in (1, 0)
            for f in (lambda v: 2 * mp.cosh(v), lambda v: 2 * mp.sinh(v))
        ]
        return -mp.log(2) + mp.mpf(L * L) / 2 * mp.log(2 * mp.sinh(2 * K)) + mp.log(mp.fsum(zs))

    for L in (8, 32):
        for T in (0.8, 2.0, TC, 3.0, 30.0):
            K = 1 / mp.mpf(T)
            f = lambda k, L=L: ln_z(L, k)
            N = L * L
            ref = (f(K) / N, -mp.diff(f, K) / N, K**2 * mp.diff(f, K, 2) / N)
            th = exact.kaufman(L, T)
            got = (th.ln_z_per_site, th.energy_per_site, th.specific_heat_per_site)
            for g_, r_ in zip(got, ref, strict=True):
                assert g_ == pytest.approx(float(r_), rel=2e-13)


def test_kaufman_approaches_onsager():
    T = np.array([1.0, 1.8, 2.0, 2.6, 3.0, 5.0])
    L = 512
    ka, on = exact.kaufman(L, T), exact.onsager(T)
    np.testing.assert_allclose(ka.energy_per_site, on.energy_per_site, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        ka.specific_heat_per_site, on.specific_heat_per_site, rtol=1e-10, atol=1e-14
    )
    # Below T_c the torus has two ordered states: ln Z_L / N - ln Z_inf / N -> ln 2 / N.
    below = T < TC
    np.testing.assert_allclose(
        ka.ln_z_per_site[below] - on.ln_z_per_site[below], math.log(2) / L**2, rtol=1e-6
    )
    np.testing.assert_allclose(ka.ln_z_per_site[~below], on.ln_z_per_site[~below], atol=1e-14)
    # At T_c the finite-size correction of the energy shrinks like 1/L.
    du = [
        exact.kaufman(n, TC).energy_per_site - exact.onsager(TC).energy_per_site for n in (256, 512)
    ]
    assert du[0] < 0 and du[1] < 0 and du[1] / du[0] == pytest.approx(0.5, abs=0.02)


def test_kaufman_specific_heat_at_tc_grows_like_log_l():
    # Ferdinand & Fisher: c(T_c, L) = (8/pi) K_c^2 [ln L + const] + O(ln L / L).
    Kc = 1 / TC
    c = [exact.kaufman(L, TC).specific_heat_per_site for L in (256, 512, 1024, 2048)]
    slope = 8 / math.pi * Kc**2 * math.log(2)
    np.testing.assert_allclose(np.diff(c), slope, rtol=2e-3)


def test_kaufman_near_tc_is_finite_and_monotone():
    L = 64
    T = np.linspace(2.0, 2.6, 121)
    T = np.sort(np.append(T, [TC, np.nextafter(TC, 0), np.nextafter(TC, 3)]))
    th = exact.kaufman(L, T)
    assert np.all(np.isfinite(th.energy_per_site)) and np.all(
        np.isfinite(th.specific_heat_per_site)
    )
    assert np.all(np.diff(th.energy_per_site) > 0)  # u increases with T
    assert np.all(th.specific_heat_per_site > 0)
    i = int(np.argmax(th.specific_heat_per_site))
    assert TC < T[i] < TC + 0.05  # the torus peak sits just above T_c
    # c = du/dT holds across T_c (consistency of the analytic derivatives).
    h = 1e-5
    c_num = (
        exact.kaufman(L, TC + h).energy_per_site - exact.kaufman(L, TC - h).energy_per_site
    ) / (2 * h)
    assert exact.kaufman(L, TC).specific_heat_per_site == pytest.approx(c_num, rel=1e-8)


def test_kaufman_large_lattices_are_stable():
    T = np.array([0.1, TC, 100.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        th = exact.kaufman(1024, T)
        big = exact.kaufman(4096, TC)
    for field in th[:4]:
        assert np.all(np.isfinite(field))
    assert th.energy_per_site[0] == pytest.approx(-2.0, abs=1e-15)
    assert abs(th.specific_heat_per_site[0]) < 1e-18
    K = 0.01
    w = math.tanh(K)
    assert th.ln_z_per_site[2] == pytest.approx(
        math.log(2) + 2 * math.log(math.cosh(K)) + w**4 + 2 * w**6, abs=1e-14
    )
    assert th.energy_per_site[2] == pytest.approx(exact.onsager(100.0).energy_per_site, rel=1e-11)
    assert np.isfinite(big.specific_heat_per_site)
    assert big.energy_per_site == pytest.approx(-math.sqrt(2), abs=1e-3)
    assert big.specific_heat_per_site > th.specific_heat_per_site[1]


def test_kaufman_shapes():
    assert isinstance(exact.kaufman(8, 2.0).energy_per_site, np.float64)
    T = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    th = exact.kaufman(8, T)
    assert th.specific_heat_per_site.shape == (2, 3)
    assert th.energy_per_site[1, 2] == exact.kaufman(8, 6.0).energy_per_site


# --------------------------------------------------------------------------- enumeration
@pytest.mark.parametrize(
    "lattice",
    [
        Lattice.chain(2),
        Lattice.chain(7),
        Lattice.chain(9, pbc=False),
        Lattice.square(2),
        Lattice.square(3),
        Lattice.square(3, pbc=False),
    ],
    ids=lambda lat: f"{lat.kind}{lat.shape}{'pbc' if lat.pbc else 'obc'}",
)
def test_density_of_states_matches_brute_force(lattice):
    dos = exact.ising_density_of_states(lattice, J=-1.5)
    N = lattice.n_sites
    ref = {}
    edges = lattice.edges
    for conf in itertools.product((1, -1), repeat=N):
        s = np.array(conf)
        key = (int(np.sum(s[edges[:, 0]] * s[edges[:, 1]])), int(s.sum()))
        ref[key] = ref.get(key, 0) + 1
    got = {
        (int(b), int(m)): int(c)
        for b, row in zip(dos.bond_sums, dos.counts, strict=True)
        for m, c in zip(dos.magnetizations, row, strict=True)
        if c
    }
    assert got == ref
    assert dos.counts.sum() == 2**N and dos.n_sites == N
    np.testing.assert_array_equal(dos.energies, 1.5 * dos.bond_sums)
    assert np.all(np.diff(dos.bond_sums) < 0)


def test_density_of_states_4x4_torus_by_hand():
    dos = exact.ising_density_of_states(4)
    g = dict(zip(dos.bond_sums.tolist(), dos.counts.sum(axis=1).tolist(), strict=True))
    # 2 ground states (B = 32); one flipped spin breaks 4 bonds: 2 * 16 states at B = 24;
    # no state has B = 28 (one broken bond cannot close); two flipped neighbours: B = 20.
    assert g[32] == 2 and g[24] == 32 and 28 not in g and g[20] == 2 * 32
    assert dos.counts[0].tolist() == [1] + [0] * 15 + [1]  # B = 32 only at M = +-16
    np.testing.assert_array_equal(dos.counts, dos.counts[:, ::-1])  # spin-flip symmetry


@pytest.mark.parametrize(
    "lattice, J, h, T",
    [
        (Lattice.square(3), 1.0, 0.0, 2.0),
        (Lattice.square(3), 1.0, 0.3, 1.5),
        (Lattice.square(3, pbc=False), -0.7, 0.2, 0.8),
        (Lattice.chain(10), 1.0, -0.4, 1.1),
        (Lattice.square(2), 2.0, 0.1, 5.0),
    ],
)
def test_enumerate_ising_matches_brute_force(lattice, J, h, T):
    got = exact.enumerate_ising(lattice, T, J=J, h=h)
    ref = brute_force_ising(lattice, T, J=J, h=h)
    for key, value in ref.items():
        assert getattr(got, key) == pytest.approx(value, rel=1e-12, abs=1e-13), key
    assert got.binder == pytest.approx(1 - ref["m4"] / (3 * ref["m2"] ** 2), rel=1e-12)
    assert got.probabilities.sum() == pytest.approx(1.0, rel=1e-14)
    assert np.all(np.diff(got.energies) > 0)
    N = lattice.n_sites
    assert got.probabilities @ got.energies / N == pytest.approx(got.energy_per_site, rel=1e-13)


def test_enumerate_ising_chains_closed_forms():
    T = np.array([0.3, 1.0, 4.0])
    K = 1 / T
    N = 12
    # Open chain: Z = 2 (2 cosh K)^{N-1}.
    op = exact.enumerate_ising(Lattice.chain(N, pbc=False), T)
    np.testing.assert_allclose(
        op.ln_z_per_site, (math.log(2) + (N - 1) * np.log(2 * np.cosh(K))) / N, rtol=1e-14
    )
    np.testing.assert_allclose(op.energy_per_site, -(N - 1) * np.tanh(K) / N, rtol=1e-13)
    np.testing.assert_allclose(
        op.specific_heat_per_site, (N - 1) * (K / np.cosh(K)) ** 2 / N, rtol=1e-12
    )
    # Periodic chain in a field: Z = l+^N + l-^N, l = e^K cosh bh +- sqrt(e^2K sinh^2 bh + e^-2K).
    J, h = 0.8, 0.35
    pc = exact.enumerate_ising(Lattice.chain(N), T, J=J, h=h)
    Kj, bh = J / T, h / T
    root = np.sqrt(np.exp(2 * Kj) * np.sinh(bh) ** 2 + np.exp(-2 * Kj))
    lp, lm = np.exp(Kj) * np.cosh(bh) + root, np.exp(Kj) * np.cosh(bh) - root
    np.testing.assert_allclose(pc.ln_z_per_site, np.log(lp**N + lm**N) / N, rtol=1e-14)


def test_enumerate_ising_limits_and_stability():
    N = 16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = exact.enumerate_ising(4, np.array([0.01, 1e6]))
    # T -> 0: the two ground states; T -> inf: independent spins, U = 2 / (3N).
    assert r.energy_per_site[0] == -2.0 and r.abs_m[0] == 1.0
    assert r.binder[0] == pytest.approx(2 / 3, rel=1e-14)
    assert r.susceptibility_per_site[0] == 0.0
    assert r.probabilities[0, 0] == 1.0
    assert r.m2[1] == pytest.approx(1 / N, rel=1e-4)
    assert r.binder[1] == pytest.approx(2 / (3 * N), rel=1e-4)
    assert r.probabilities.shape == (2, r.energies.size)
    s = exact.enumerate_ising(Lattice.square(3), 2.0)
    assert isinstance(s.binder, np.float64) and s.probabilities.ndim == 1


@pytest.mark.slow
def test_density_of_states_5x5_matches_transfer_matrix():
    T = np.array([1.0, TC, 4.0])
    en, tm = exact.enumerate_ising(5, T), exact.transfer_matrix_ising(5, T)
    for field in ("ln_z_per_site", "energy_per_site", "specific_heat_per_site"):
        np.testing.assert_allclose(getattr(en, field), getattr(tm, field), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- TFIM chain
@pytest.fixture(scope="module")
def chain_parts():
    return {N: tfim_chain_parts(N) for N in range(2, 13)}


def test_tfim_n12_matches_exact_diagonalisation(chain_parts):
    zz, xx = chain_parts[12]
    for J, g in [(1.0, 1.0), (1.0, 0.5), (-1.0, 2.5)]:
        e_ed = exact.lanczos(-J * zz - g * xx)[0]
        assert exact.tfim_chain_ground_energy(12, J=J, gamma=g) == pytest.approx(e_ed, abs=1e-9)


@pytest.mark.parametrize("N", range(2, 12))
def test_tfim_all_small_chains_match_exact_diagonalisation(chain_parts, N):
    zz, xx = chain_parts[N]
    for J in (1.0, -1.0):
        for g in (0.3, 1.0, 2.5, -0.7, 0.0):
            e_ed = exact.lanczos(-J * zz - g * xx)[0]
            e_ff = exact.tfim_chain_ground_energy(N, J=J, gamma=g)
            assert e_ff == pytest.approx(e_ed, abs=1e-9), (N, J, g)


def test_tfim_closed_forms():
    # N = 2 (doubled bond): H = -2J Z0Z1 - G(X0 + X1) has ground energy -2 sqrt(J^2 + G^2).
    assert exact.tfim_chain_ground_energy(2, 0.7, 1.3) == pytest.approx(-2 * math.hypot(0.7, 1.3))
    # Critical chain: -2 / sin(pi / 2N).
    for N in (5, 20, 101):
        assert exact.tfim_chain_ground_energy(N) == pytest.approx(
            -2 / math.sin(math.pi / (2 * N)), rel=1e-14
        )
    # Classical limit: -N|J|, and the frustrated odd antiferromagnetic ring: -(N - 2)|J|.
    assert exact.tfim_chain_ground_energy(8, J=-1.0, gamma=0.0) == pytest.approx(-8.0)
    assert exact.tfim_chain_ground_energy(9, J=-1.0, gamma=0.0) == pytest.approx(-7.0)
    assert exact.tfim_chain_ground_energy(9, J=0.0, gamma=-1.5) == pytest.approx(-13.5)


def test_tfim_infinite_chain():
    for J, g in [(1.0, 0.5), (1.0, 2.0), (-0.7, 0.3), (1.0, 1.0)]:
        integral, _ = scipy.integrate.quad(
            lambda k, J=J, g=g: math.sqrt(J * J + g * g - 2 * J * g * math.cos(k)),
            0,
            math.pi,
            epsabs=1e-14,
            epsrel=1e-13,
        )
        e_inf = exact.tfim_chain_energy_per_site_infinite(J, g)
        assert e_inf == pytest.approx(-integral / math.pi, rel=1e-12)
    assert exact.tfim_chain_energy_per_site_infinite(1.0, 1.0) == pytest.approx(-4 / math.pi)
    # Gapped: exponentially small finite-size corrections.
    assert exact.tfim_chain_ground_energy(400, 1.0, 0.5) / 400 == pytest.approx(
        exact.tfim_chain_energy_per_site_infinite(1.0, 0.5), abs=1e-14
    )
    # Critical (CFT, c = 1/2, v = 2J): E0 = N e_inf - pi v c / (6N) + O(N^-3).
    N = 1000
    assert exact.tfim_chain_ground_energy(N) - N * (-4 / math.pi) == pytest.approx(
        -math.pi / (6 * N), rel=1e-5
    )
    assert exact.tfim_chain_energy_per_site_infinite(0.0, 0.0) == 0.0


# --------------------------------------------------------------------------- Lanczos
class _HasSparseMatrix:
    def __init__(self, m):
        self._m = m

    def sparse_matrix(self):
        return self._m


def test_lanczos_paths_agree(chain_parts):
    zz, xx = chain_parts[8]
    H = -zz - 0.6 * xx  # dimension 256: eigsh path
    dense = np.linalg.eigvalsh(H.toarray())[:4]
    np.testing.assert_allclose(exact.lanczos(H, k=4), dense, atol=1e-10)
    np.testing.assert_allclose(exact.lanczos(_HasSparseMatrix(H), k=2), dense[:2], atol=1e-10)
    op = spla.aslinearoperator(H)
    np.testing.assert_allclose(exact.lanczos(op, k=3), dense[:3], atol=1e-10)
    vals, vecs = exact.lanczos(H, k=3, return_vectors=True)
    assert vecs.shape == (256, 3)
    np.testing.assert_allclose(H @ vecs, vecs * vals, atol=1e-8)
    small_zz, small_xx = chain_parts[4]  # dimension 16: dense path
    small = -small_zz - 1.2 * small_xx
    np.testing.assert_allclose(
        exact.lanczos(small, k=16), np.linalg.eigvalsh(small.toarray()), atol=1e-12
    )
    np.testing.assert_allclose(
        exact.lanczos(spla.aslinearoperator(small), k=2),
        np.linalg.eigvalsh(small.toarray())[:2],
        atol=1e-12,
    )


def test_lanczos_bad_input():
    with pytest.raises(InvalidParameterError, match=r"expected a square \(n, n\) operator"):
        exact.lanczos(np.ones((3, 4)))
    with pytest.raises(InvalidParameterError, match=r"expected k <= dimension 4; got k = 5"):
        exact.lanczos(np.eye(4), k=5)
    with pytest.raises(InvalidParameterError, match=r"expected a Hermitian operator"):
        exact.lanczos(np.array([[0.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(InvalidParameterError, match=r"expected a sparse matrix, LinearOperator"):
        exact.lanczos("hamiltonian")


# --------------------------------------------------------------------------- MaxCut
@pytest.mark.parametrize(
    "n, edges, weights, expected",
    [
        (3, [(0, 1), (1, 2), (2, 0)], None, 2.0),  # triangle: one edge always uncut
        (4, [(0, 1), (1, 2), (2, 3), (3, 0)], None, 4.0),  # even cycle: bipartite
        (4, list(itertools.combinations(range(4), 2)), None, 4.0),  # K4: 2 | 2 split
        # 5-cycle 0-1-2-3-4-0 (weights 3, 2, 4, 1, 5) with chord 0-2 (weight 1). An odd cycle
        # leaves an odd number of its edges uncut; with one uncut edge e the chord is cut iff
        # e is 0-1 or 1-2: 15-3+1 = 13, 15-2+1 = 14, 15-4 = 11, 15-1 = 14, 15-5 = 10; three
        # uncut edges give <= 15-1-2-3+1 = 10. Maximum: 14.
        (5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2)], [3, 2, 4, 1, 5, 1], 14.0),
        (3, [(0, 1), (1, 2)], [-1.0, -2.0], 0.0),  # only negative weights: cut nothing
        (1, [], None, 0.0),
    ],
)
def test_maxcut_hand_solved(n, edges, weights, expected):
    graph = Graph(n, np.array(edges, np.int64).reshape(-1, 2), weights)
    value, spins = exact.maxcut_brute_force(graph)
    assert value == pytest.approx(expected, abs=1e-12)
    assert spins.dtype == np.int8 and spins.shape == (n,) and spins[0] == 1
    assert set(np.unique(spins)) <= {-1, 1}
    assert cut_value(graph.edges, graph.weights, spins) == pytest.approx(expected, abs=1e-12)


def test_maxcut_random_weighted_graphs_match_reference():
    rng = np.random.default_rng(20261127)
    for _ in range(5):
        n = 8
        edges = [(i, j) for i, j in itertools.combinations(range(n), 2) if rng.random() < 0.5]
        weights = rng.normal(0.5, 1.0, size=len(edges))  # mixed signs
        value, spins = exact.maxcut_brute_force(Graph(n, np.array(edges), weights))
        ref = maxcut_reference(n, edges, weights)
        assert value == pytest.approx(ref, abs=1e-12)
        assert cut_value(edges, weights, spins) == pytest.approx(ref, abs=1e-12)


def test_maxcut_split_enumeration_and_lattice_input():
    # 16 nodes cross the enumerator's split (13 low sites): the 4x4 torus is bipartite,
    # so every one of its 32 bonds is cut by the checkerboard.
    lat = Lattice.square(4)
    value, spins = exact.maxcut_brute_force(lat)
    assert value == 32.0
    np.testing.assert_array_equal(spins, 1 - 2 * lat.sublattice.astype(np.int8))
    # 16 weighted nodes against a plain, unsplit numpy enumeration of all 2^16 assignments.
    rng = np.random.default_rng(7)
    n = 16
    edges = np.array([(i, j) for i, j in itertools.combinations(range(n), 2) if rng.random() < 0.3])
    w = rng.normal(0.2, 1.0, size=len(edges))
    value, spins = exact.maxcut_brute_force(Graph(n, edges, w))
    idx = np.arange(2**n)[:, None]
    s = 1 - 2 * ((idx >> np.arange(n - 1, -1, -1)) & 1)
    cuts = (s[:, edges[:, 0]] != s[:, edges[:, 1]]) @ w
    assert value == pytest.approx(cuts.max(), abs=1e-12)
    assert cut_value(edges, w, spins) == pytest.approx(cuts.max(), abs=1e-12)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("L, shown", [(0, "0"), (1, "1"), (2.5, "2.5")])
def test_bad_lattice_size(L, shown):
    msg = rf"L must be an integer >= 2; got {shown}"
    with pytest.raises(InvalidParameterError, match=msg):
        exact.kaufman(L, 2.0)
    with pytest.raises(InvalidParameterError, match=msg):
        exact.transfer_matrix_ising(L, 2.0)
    with pytest.raises(InvalidParameterError, match=msg):
        exact.enumerate_ising(L, 2.0)


@pytest.mark.parametrize(
    "T, shown",
    [(-1, "-1.0"), (0, "0.0"), (float("nan"), "nan"), ([1.0, -2.0], "-2.0"), (math.inf, "inf")],
)
def test_bad_temperature(T, shown):
    msg = rf"T must be a positive, finite temperature; got {shown}"
    for call in (
        lambda: exact.kaufman(4, T),
        lambda: exact.onsager(T),
        lambda: exact.yang_magnetization(T),
        lambda: exact.enumerate_ising(3, T),
        lambda: exact.transfer_matrix_ising(3, T),
    ):
        with pytest.raises(InvalidParameterError, match=msg):
            call()


def test_bad_couplings_and_sizes():
    with pytest.raises(
        InvalidParameterError, match=r"expected a ferromagnetic coupling J > 0.*got J = -1"
    ):
        exact.kaufman(4, 2.0, J=-1)
    with pytest.raises(
        InvalidParameterError, match=r"expected a ferromagnetic coupling J > 0.*got J = 0"
    ):
        exact.onsager_tc(0)
    with pytest.raises(InvalidParameterError, match=r"expected J/T <= 150 for kaufman"):
        exact.kaufman(4, 0.005)
    with pytest.raises(
        InvalidParameterError, match=r"expected gamma to be a finite number; got nan"
    ):
        exact.tfim_chain_ground_energy(4, gamma=float("nan"))
    with pytest.raises(InvalidParameterError, match=r"N must be an integer >= 2; got 1"):
        exact.tfim_chain_ground_energy(1)
    with pytest.raises(
        InvalidParameterError, match=r"expected a Lattice or an integer L >= 2; got str"
    ):
        exact.enumerate_ising("4x4", 2.0)


def test_too_large_for_exact_methods():
    with pytest.raises(
        TooLargeError,
        match=r"expected at most 25 sites for exact enumeration "
        r"\(2\^N configurations\); got N = 36 \(6x6 lattice\)",
    ):
        exact.ising_density_of_states(Lattice.square(6))
    with pytest.raises(TooLargeError, match=r"got N = 26 \(26 lattice\)"):
        exact.enumerate_ising(Lattice.chain(26), 1.0)
    with pytest.raises(
        TooLargeError,
        match=r"expected at most 26 nodes for brute-force MaxCut "
        r"\(2\^\(n-1\) assignments\); got 27 nodes",
    ):
        exact.maxcut_brute_force(Graph(27, np.array([[0, 1]])))
    with pytest.raises(
        TooLargeError, match=r"expected L <= 10 for the transfer matrix.*got L = 11"
    ):
        exact.transfer_matrix_ising(11, 2.0)
    with pytest.raises(
        InvalidParameterError,
        match=r"expected a Graph \(or an object with "
        r"\.to_graph\(\)\); got list",
    ):
        exact.maxcut_brute_force([(0, 1)])


@pytest.mark.parametrize("L", [2, 3, 4, 5, 10, 16, 64, math.inf])
def test_high_temperatures_follow_the_series_to_rounding(L):
    """Above T = 100 J the closed forms lose precision like 1e-16 (T/J)^2; the
    high-temperature expansion takes over, continuous at the switch and exact to rounding
    up to T = 1e300 (no wrong finite number, no nan): e -> -(N_b/N) J K, c -> (N_b/N) K^2."""
    bonds = 4.0 if L == 2 else 2.0  # the periodic 2x2 torus doubles its bonds
    f = exact.onsager if math.isinf(L) else (lambda T: exact.kaufman(L, T))
    from qml_phys.physics.exact import ising2d

    K = np.array([ising2d.HIGH_T_K])  # at the switch, the closed form and the series agree
    if math.isinf(L):
        closed = f(1.0 / K * (1 + 1e-12))  # just below the switch: the closed forms
        series = ising2d._series_square(K)
        pairs = [(closed.energy_per_site, -series[1]), (closed.ln_z_per_site, series[0])]
    else:
        lnZ, d1, d2 = ising2d._kaufman_block(L, K)
        n = L * L
        series = ising2d._series_small_torus(L, K) if L <= 5 else ising2d._series_square(K)
        pairs = [(lnZ / n, series[0]), (d1 / n, series[1]), (d2 / n, series[2])]
    for a, b in pairs:
        assert abs(float(a[0] if np.ndim(a) else a) - float(b[0])) < 1e-10 * abs(float(b[0]))
    for T in (1e3, 1e6, 1e10, 1e20, 1e300):
        r = f(T)
        K = 1.0 / T
        rel = max(1e-12, 10 * K)  # loops of 3 bonds wind around the 3x3 torus: O(K)
        assert r.energy_per_site == pytest.approx(-bonds * K, rel=rel)
        assert r.specific_heat_per_site == pytest.approx(bonds * K * K, rel=rel, abs=1e-320)
        assert r.ln_z_per_site == pytest.approx(math.log(2.0), rel=rel)


def test_high_temperature_of_small_tori_matches_enumeration_and_loop_counts():
    from qml_phys.physics.exact import ising2d

    for L in (3, 4):  # the loop polynomial of the torus against the enumeration at T = 150
        a = exact.kaufman(L, 150.0).energy_per_site
        b = exact.enumerate_ising(L, 150.0).energy_per_site
        assert a == pytest.approx(b, rel=1e-13)
    a, n_b = ising2d._loop_polynomial(4)
    # 4x4 torus: 16 plaquettes + 8 straight winding loops of 4 bonds; 32 bonds in all
    assert n_b == 32 and a[0] == 1 and a[2] == 0 and a[4] == 24
    with pytest.raises(InvalidParameterError, match=r"6 <= L <= 9 .*got L = 7, T = 100000 J"):
        exact.kaufman(7, 1e5)


def test_very_large_tori_fit_in_memory():
    """L = 10^6 at T_c (2 10^6 modes in chunks) approaches Onsager's e = -sqrt 2 like 1/L."""
    e = float(exact.kaufman(10**6, exact.onsager_tc()).energy_per_site)
    assert abs(e + math.sqrt(2.0)) < 1e-5
