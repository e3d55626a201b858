r"""Tests of :mod:`qml_phys.classical.observables` against exact enumeration.

The 3 x 3 periodic Ising model (E = -J sum_bonds s_i s_j, bonds = (site, right
neighbour) and (site, down neighbour), J = 1) has 2^9 = 512 states: its Boltzmann
distribution is enumerated here, i.i.d. samples are drawn from it, and every observable
and every error bar is checked against the exact value. Exact error bars of the derived
observables come from the delta method with the exact covariance of the series.
"""

import json
import math

import numpy as np
import pytest

from qml_phys.classical.observables import ising_observables, observables_to_dict
from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.stats import Estimate, integrated_time

L, N_SITES = 3, 9
SEED_EXACT = 31
SEED_SCALING = 32
SEED_REPEAT = 33
SEED_SMALL = 34

PRIMARY = ("energy", "m", "abs_m", "m2", "m4")
NAMES = PRIMARY + ("specific_heat", "susceptibility", "susceptibility_m2", "binder")


def enumerate_3x3():
    """Per-site energy and magnetization of all 512 states."""
    bits = (np.arange(2**N_SITES)[:, None] >> np.arange(N_SITES)) & 1
    s = (2 * bits - 1).reshape(-1, L, L)
    bonds = s * np.roll(s, -1, axis=2) + s * np.roll(s, -1, axis=1)  # right, down
    energy = -bonds.sum(axis=(1, 2))
    return energy / N_SITES, s.sum(axis=(1, 2)) / N_SITES


E_STATES, M_STATES = enumerate_3x3()


def boltzmann(T):
    w = np.exp(-(E_STATES - E_STATES.min()) * N_SITES / T)
    return w / w.sum()


def exact_observables(T):
    """Exact values and exact asymptotic standard deviations (error x sqrt(n)) per sample."""
    p, beta = boltzmann(T), 1.0 / T
    ex = lambda f: float(p @ f)
    e, m = E_STATES, M_STATES
    series = {"energy": e, "m": m, "abs_m": np.abs(m), "m2": m**2, "m4": m**4, "e2": e**2}
    mean = {k: ex(v) for k, v in series.items()}
    cov = lambda a, b: ex((series[a] - mean[a]) * (series[b] - mean[b]))
    value = {k: mean[k] for k in PRIMARY}
    sd = {k: math.sqrt(cov(k, k)) for k in PRIMARY}
    kurt = {k: ex((series[k] - mean[k]) ** 4) / cov(k, k) ** 2 for k in PRIMARY}

    def delta(grad, a, b):  # sd of f(<a>, <b>) by the delta method
        ga, gb = grad
        return math.sqrt(ga * ga * cov(a, a) + 2 * ga * gb * cov(a, b) + gb * gb * cov(b, b))

    bn = beta * N_SITES
    value["specific_heat"] = beta * bn * (mean["e2"] - mean["energy"] ** 2)
    sd["specific_heat"] = delta((-2 * beta * bn * mean["energy"], beta * bn), "energy", "e2")
    value["susceptibility"] = bn * (mean["m2"] - mean["abs_m"] ** 2)
    sd["susceptibility"] = delta((-2 * bn * mean["abs_m"], bn), "abs_m", "m2")
    value["susceptibility_m2"] = bn * mean["m2"]
    sd["susceptibility_m2"] = bn * sd["m2"]
    a, b = mean["m2"], mean["m4"]
    value["binder"] = 1 - b / (3 * a * a)
    sd["binder"] = delta((2 * b / (3 * a**3), -1 / (3 * a * a)), "m2", "m4")
    return value, sd, kurt


def draw(rng, T, shape):
    idx = rng.choice(E_STATES.size, size=shape, p=boltzmann(T))
    return E_STATES[idx], M_STATES[idx]


def error_rel_sd(name, est, kurt, n_total, n_blocks_total):
    """Relative sd of an error bar: jackknife sqrt(1/(2(B-1))); tau-based from the noise of
    tau_int (half Sokal's sqrt(2(2W+1)/n), W <= 24 here) and of sigma^2 (sqrt((k-1)/n)/2)."""
    if name in ("specific_heat", "susceptibility", "binder"):
        return math.sqrt(1 / (2 * (n_blocks_total - 1)))
    k = kurt["m2" if name == "susceptibility_m2" else name]
    window = 6 * est.tau_int + 1
    return 0.5 * math.sqrt(2 * (2 * window + 1) / n_total) + 0.5 * math.sqrt((k - 1) / n_total)


def test_enumeration_sanity():
    # 18 bonds; two ground states at e = -2. Each of the 3 rows and 3 columns is an odd
    # ring with at least one satisfied bond, so the maximum is E = -(6 - 12) = 6.
    assert E_STATES.min() == -2.0 and np.count_nonzero(E_STATES == -2.0) == 2
    assert E_STATES.max() == pytest.approx(6 / 9)
    # T -> infinity: <e^2> = 18 / 81 (bonds independent), so c T^2 -> 2
    value, _, _ = exact_observables(1e6)
    assert value["specific_heat"] * 1e12 == pytest.approx(2.0, rel=1e-5)


@pytest.mark.parametrize("T", [2.0, 3.0])
def test_every_observable_matches_exact_enumeration(T):
    rng = np.random.default_rng(SEED_EXACT)
    e, m = draw(rng, T, (4, 25_000))
    result = ising_observables(e, m, T=T, n_sites=N_SITES)
    value, sd, kurt = exact_observables(T)
    assert set(result) == set(NAMES)
    for name in NAMES:
        est = result[name]
        assert isinstance(est, Estimate)
        assert abs(est.mean - value[name]) < 4 * est.error, (name, est, value[name])
        # the error bar itself is the exact one, within its own statistical noise
        exact_error = sd[name] / math.sqrt(e.size)
        tol = 4 * error_rel_sd(name, est, kurt, e.size, 4 * 200)
        assert abs(est.error / exact_error - 1) < tol, (name, est.error, exact_error)
        assert est.rhat < 1.01
    for name in PRIMARY:  # i.i.d. samples: tau_int = 1/2
        w = 6 * result[name].tau_int + 1
        assert abs(result[name].tau_int - 0.5) < 4 * 0.5 * math.sqrt(2 * (2 * w + 1) / e.size)


def test_errors_shrink_like_one_over_sqrt_n():
    T = 2.0
    rng = np.random.default_rng(SEED_SCALING)
    e, m = draw(rng, T, (4, 64_000))
    _, sd, kurt = exact_observables(T)
    small = ising_observables(e[:, :4_000], m[:, :4_000], T=T, n_sites=N_SITES)
    big = ising_observables(e, m, T=T, n_sites=N_SITES)
    for name in NAMES:
        for res, n_total in ((small, 16_000), (big, 256_000)):
            rel = error_rel_sd(name, res[name], kurt, n_total, 4 * 200)
            exact_error = sd[name] / math.sqrt(n_total)
            assert abs(res[name].error / exact_error - 1) < 4 * rel, (name, n_total)
        ratio = small[name].error / big[name].error
        rel = math.hypot(
            error_rel_sd(name, small[name], kurt, 16_000, 800),
            error_rel_sd(name, big[name], kurt, 256_000, 800),
        )
        assert abs(ratio / 4 - 1) < 4 * rel, (name, ratio)


def test_repeated_samples_are_detected_as_autocorrelated():
    # Each i.i.d. sample repeated k times: rho(t) = 1 - t/k for t < k, so tau_int = k/2
    # exactly, and the error is that of the n unique samples: sqrt(k) times the naive one.
    T, k, n_unique = 2.0, 8, 12_500
    rng = np.random.default_rng(SEED_REPEAT)
    e1, m1 = draw(rng, T, (4, n_unique))
    e, m = np.repeat(e1, k, axis=-1), np.repeat(m1, k, axis=-1)
    result = ising_observables(e, m, T=T, n_sites=N_SITES)
    iid = ising_observables(e1, m1, T=T, n_sites=N_SITES)
    value, sd, kurt = exact_observables(T)
    for name in NAMES:
        est = result[name]
        assert abs(est.mean - value[name]) < 4 * est.error, name
        exact_error = sd[name] / math.sqrt(e1.size)
        tol = 4 * error_rel_sd(name, est, kurt, e1.size, 800)
        assert abs(est.error / exact_error - 1) < tol, (name, est.error, exact_error)
        assert abs(est.error / iid[name].error - 1) < tol, name
    series = {"energy": e, "m": m, "abs_m": np.abs(m), "m2": m**2, "m4": m**4}
    for name, x in series.items():
        tau = result[name].tau_int
        w = integrated_time(x).window
        assert abs(tau - k / 2) < 4 * (k / 2) * math.sqrt(2 * (2 * w + 1) / e.size), name
        naive = x.std() / math.sqrt(x.size)
        assert result[name].error / naive == pytest.approx(math.sqrt(2 * tau), rel=1e-9)
        assert abs(result[name].error / naive / math.sqrt(k) - 1) < 0.1, name
    for name in ("specific_heat", "susceptibility", "binder"):
        assert result[name].tau_int == pytest.approx(k / 2, rel=0.1)


def test_single_chain_and_json_summary():
    T = 3.0
    rng = np.random.default_rng(SEED_SMALL)
    e, m = draw(rng, T, 20_000)
    result = ising_observables(e, m, T=T, n_sites=N_SITES)
    assert all(math.isnan(est.rhat) for est in result.values())
    summary = observables_to_dict(result)
    text = json.dumps(summary, allow_nan=False)
    back = json.loads(text)
    assert set(back) == set(NAMES)
    assert set(back["energy"]) == {"mean", "error", "tau_int", "n_eff", "rhat"}
    assert back["energy"]["rhat"] is None
    assert back["binder"]["mean"] == result["binder"].mean
    assert type(summary["specific_heat"]["error"]) is float


def test_explicit_block_count_is_used():
    T = 3.0
    rng = np.random.default_rng(SEED_SMALL)
    e, m = draw(rng, T, (2, 1000))
    a = ising_observables(e, m, T=T, n_sites=N_SITES, n_blocks=10)
    b = ising_observables(e, m, T=T, n_sites=N_SITES, n_blocks=50)
    assert a["specific_heat"].error != b["specific_heat"].error
    assert a["energy"] == b["energy"]


# ------------------------------------------------------------------------- bad input


def test_bad_input_is_rejected():
    e = np.zeros((2, 100))
    m = np.zeros((2, 100))
    msg = r"expected energy and magnetization of the same shape; got \(2, 100\) and \(2, 99\)"
    with pytest.raises(ShapeError, match=msg):
        ising_observables(e, m[:, :99], T=2.0, n_sites=9)
    msg = "T must be a positive, finite temperature; got "
    with pytest.raises(InvalidParameterError, match=msg + "0"):
        ising_observables(e, m, T=0, n_sites=9)
    with pytest.raises(InvalidParameterError, match=msg + "-1.0"):
        ising_observables(e, m, T=-1.0, n_sites=9)
    with pytest.raises(InvalidParameterError, match="n_sites must be an integer >= 1; got 0"):
        ising_observables(e, m, T=2.0, n_sites=0)
    msg = r"expected per-site magnetization with \|m\| <= 1; got max \|m\| = 9"
    with pytest.raises(InvalidParameterError, match=msg):
        ising_observables(e, m + 9.0, T=2.0, n_sites=9)
    msg = r"expected energy of shape \(n,\) or \(n_chains, n\); got shape \(1, 2, 100\)"
    with pytest.raises(ShapeError, match=msg):
        ising_observables(e[None], m[None], T=2.0, n_sites=9)
    msg = "expected a dict of Estimate; got tuple for 'x'"
    with pytest.raises(InvalidParameterError, match=msg):
        observables_to_dict({"x": (1.0, 2.0)})
