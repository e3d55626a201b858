r"""Tests of :mod:`qml_phys.classical.statistics` against exactly known answers.

The reference process is AR(1), started in equilibrium,

    x_0 ~ N(0, 1),   x_t = phi x_{t-1} + sqrt(1 - phi^2) eps_t,

for which exactly rho(t) = phi^t, tau_int = (1 + phi) / (2 (1 - phi)), and the mean of n
samples has Var = (1/n) [(1+phi)/(1-phi) - 2 phi (1 - phi^n) / (n (1-phi)^2)].
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import scipy.stats

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.stats.estimate import Estimate, format_value_error
from qml_phys.stats.timeseries import (
    ShortSeriesWarning,
    auto_n_blocks,
    autocorrelation,
    binning_analysis,
    estimate,
    integrated_time,
    jackknife,
    split_rhat,
)

SEED_ACF = 101
SEED_TAU = 202
SEED_SHORT = 303
SEED_ERROR = 404
SEED_COVERAGE = 505
SEED_BINNING = 606
SEED_JACKKNIFE_BIAS = 707
SEED_JACKKNIFE_ERROR = 808
SEED_JACKKNIFE_AR1 = 909
SEED_RHAT = 1111
SEED_SMALL = 1212


def ar1(rng, phi, shape):
    """AR(1) series of the given shape (time along the last axis), in equilibrium at t=0."""
    eps = rng.standard_normal(shape)
    x0 = eps[..., :1].copy()
    eps[..., :1] = 0.0
    x, _ = scipy.signal.lfilter([math.sqrt(1 - phi**2)], [1.0, -phi], eps, axis=-1, zi=x0)
    return x


def tau_exact(phi):
    return (1 + phi) / (2 * (1 - phi))


def var_mean_exact(phi, n, n_chains=1):
    """Exact variance of the grand mean of ``n_chains`` independent AR(1) chains of n."""
    if phi == 0:
        return 1.0 / (n * n_chains)
    v = ((1 + phi) / (1 - phi) - 2 * phi * (1 - phi**n) / (n * (1 - phi) ** 2)) / n
    return v / n_chains


def sokal_rel_sd(window, n_total):
    """Madras-Sokal's estimate of the relative sd of tau_int: sqrt(2(2W+1)/n)."""
    return math.sqrt(2 * (2 * window + 1) / n_total)


# ------------------------------------------------------------------------ autocorrelation


def test_autocorrelation_equals_direct_sum_over_chains():
    rng = np.random.default_rng(SEED_SMALL)
    x = rng.standard_normal((3, 37)) + np.arange(3)[:, None]  # chains with different means
    n = x.shape[1]
    d = x - x.mean()
    acov = np.array([np.mean([d[c, : n - t] @ d[c, t:] for c in range(3)]) / n for t in range(n)])
    np.testing.assert_allclose(autocorrelation(x), acov / acov[0], rtol=0, atol=1e-12)
    one = x[0] - x[0].mean()
    direct = np.array([one[: n - t] @ one[t:] for t in range(n)])
    np.testing.assert_allclose(autocorrelation(x[0]), direct / direct[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_autocorrelation_of_ar1_is_phi_to_the_t(phi):
    rng = np.random.default_rng(SEED_ACF)
    x = ar1(rng, phi, (4, 2**16))
    n_total = x.size
    lags = np.arange(1, 31)
    rho = autocorrelation(x)[lags]
    # Bartlett's formula for AR(1): Var(rho_hat(k)) ~ [(1+phi^2)(1-phi^2k)/(1-phi^2) - 2k phi^2k]/n
    var = (1 + phi**2) * (1 - phi ** (2 * lags)) / (1 - phi**2) - 2 * lags * phi ** (2 * lags)
    sd = np.sqrt(var / n_total)
    assert np.all(np.abs(rho - phi**lags) < 4.5 * sd), np.max(np.abs(rho - phi**lags) / sd)


# ------------------------------------------------------------------ integrated time


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, 0.98])
def test_integrated_time_of_ar1(phi):
    rng = np.random.default_rng(SEED_TAU)
    x = ar1(rng, phi, (4, 2**18))
    result = integrated_time(x)
    exact = tau_exact(phi)
    # Tolerance: 3 x Sokal's sd sqrt(2(2W+1)/n) tau, which overstates the measured sd of
    # this estimator by ~1.5 (20 seeds per phi), i.e. ~4.5 measured sd; plus the exact
    # truncation bias sum_{t>W} phi^t of the window.
    truncation = phi ** (result.window + 1) / (1 - phi)
    tol = 3 * sokal_rel_sd(result.window, x.size) * exact + truncation
    assert abs(result.tau_int - exact) < tol, (result, exact, tol)
    assert result.reliable
    # The window is the smallest W >= 1 with W >= 6 tau(W).
    taus = 0.5 + np.cumsum(autocorrelation(x)[1:])
    w = result.window
    assert w >= 6 * taus[w - 1]
    assert w == 1 or w - 1 < 6 * taus[w - 2]
    assert result.tau_int == pytest.approx(taus[w - 1], rel=1e-12)


def test_integrated_time_of_constant_series_is_one_half():
    assert tuple(integrated_time(np.full((2, 100), 0.1))) == (0.5, 0, True)
    est = estimate(np.full((2, 100), 0.1))
    assert est.mean == pytest.approx(0.1) and est.error == 0.0 and est.tau_int == 0.5
    np.testing.assert_array_equal(autocorrelation(np.ones(5)), [1, 0, 0, 0, 0])


def test_short_series_is_flagged_and_warned():
    rng = np.random.default_rng(SEED_SHORT)
    x = ar1(rng, 0.98, 500)  # tau_int = 49.5: 500 < 50 tau_int
    with pytest.warns(ShortSeriesWarning, match="expected a series much longer"):
        result = integrated_time(x)
    assert not result.reliable
    with pytest.warns(ShortSeriesWarning):
        estimate(x)
    # A long enough series gives no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert integrated_time(ar1(rng, 0.5, 2000)).reliable


# ------------------------------------------------------------------------- estimates


def test_estimate_error_equals_exact_standard_error_of_ar1():
    rng = np.random.default_rng(SEED_ERROR)
    phi, shape = 0.9, (4, 2**16)
    x = ar1(rng, phi, shape)
    est = estimate(x)
    exact_error = math.sqrt(var_mean_exact(phi, shape[1], shape[0]))
    w = integrated_time(x).window
    # error ~ sqrt(tau): relative sd half that of tau (plus a negligible sigma^2 term)
    assert abs(est.error / exact_error - 1) < 4 * 0.5 * sokal_rel_sd(w, x.size) + 0.01
    assert est.n_eff == pytest.approx(x.size / (2 * est.tau_int))
    assert abs(est.mean) < 4 * exact_error
    assert est.rhat < 1.01
    assert abs(est.tau_int - tau_exact(phi)) < 3 * sokal_rel_sd(w, x.size) * tau_exact(phi)


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_error_bars_cover_the_true_mean_at_the_normal_rates(phi):
    rng = np.random.default_rng(SEED_COVERAGE)
    n_series, n = 2000, 4000  # n >= 200 tau_int
    x = ar1(rng, phi, (n_series, n))
    z = np.array([abs(e.mean) / e.error for e in (estimate(row) for row in x)])
    for k, p in ((1, 0.6827), (2, 0.9545)):
        sd = math.sqrt(p * (1 - p) / n_series)
        assert abs(np.mean(z < k) - p) < 4 * sd, (k, np.mean(z < k))


def test_estimate_accepts_jax_arrays_and_one_dimensional_series():
    rng = np.random.default_rng(SEED_SMALL)
    x = ar1(rng, 0.5, 3000).astype(np.float32)
    a, b, c = estimate(x), estimate(jnp.asarray(x)), estimate(x[None, :])
    assert a == b == c
    assert math.isnan(a.rhat)
    assert isinstance(a, Estimate) and isinstance(a.mean, float)
    assert str(a).startswith(format_value_error(a.mean, a.error) + " [tau_int=")


@pytest.mark.parametrize(
    "value, error, text",
    [
        (1.23456, 0.0067, "1.2346(67)"),
        (-1.23456, 0.0067, "-1.2346(67)"),
        (0.5, 0.123, "0.50(12)"),
        (12.345, 1.234, "12.3(12)"),
        (1234.5, 123.4, "1230(120)"),
        (0.123456, 0.0996, "0.12(10)"),
        (2.0, 0.0, "2(0)"),
        (2.0, math.nan, "2(nan)"),
    ],
)
def test_format_value_error(value, error, text):
    assert format_value_error(value, error) == text


def test_format_value_error_one_digit():
    assert format_value_error(1.23456, 0.0067, digits=1) == "1.235(7)"


# ---------------------------------------------------------------------------- binning


def test_binning_plateau_matches_exact_error_and_tau():
    rng = np.random.default_rng(SEED_BINNING)
    phi, shape = 0.9, (4, 2**18)
    x = ar1(rng, phi, shape)
    b = binning_analysis(x)
    assert b.converged
    np.testing.assert_array_equal(b.block_sizes, 2 ** np.arange(len(b.block_sizes)))
    np.testing.assert_array_equal(b.n_blocks, shape[0] * (shape[1] // b.block_sizes))
    # Level 0 is the naive error of the mean, exactly.
    assert b.errors[0] == pytest.approx(x.std() / math.sqrt(x.size - 1), rel=1e-12)
    # The curve rises by sqrt(2 tau_int) = 4.4 before the plateau.
    assert b.errors[b.plateau_level] > 3 * b.errors[0]
    nj = b.n_blocks[b.plateau_level]
    rel_sd_var = math.sqrt(6 / nj)  # corrected estimator: a window-1 tau estimate on n_j blocks
    exact_var = var_mean_exact(phi, shape[1], shape[0])
    assert abs(b.error**2 / exact_var - 1) < 4 * rel_sd_var
    assert abs(b.tau_int / tau_exact(phi) - 1) < 4 * rel_sd_var + 0.01  # + sigma^2 noise
    # ... and agrees with the windowed tau_int estimate.
    t = integrated_time(x)
    rel = math.sqrt(rel_sd_var**2 + sokal_rel_sd(t.window, x.size) ** 2)
    assert abs(b.tau_int / t.tau_int - 1) < 4 * rel


def test_binning_of_independent_samples_has_plateau_at_level_zero():
    rng = np.random.default_rng(SEED_BINNING)
    x = rng.standard_normal(2**16)
    b = binning_analysis(x)
    assert b.converged and b.plateau_level == 0
    assert abs(b.tau_int / 0.5 - 1) < 4 * math.sqrt(6 / x.size)


def test_binning_flags_a_series_too_short_for_its_correlations():
    rng = np.random.default_rng(SEED_SHORT)
    x = ar1(rng, 0.999, 512)  # tau_int ~ 1000 > n
    b = binning_analysis(x)
    assert not b.converged
    assert b.n_blocks[b.plateau_level] >= 16
    assert binning_analysis(ar1(rng, 0.5, 4096)).converged


def test_binning_of_constant_series():
    b = binning_analysis(np.ones(64))
    assert (b.error, b.tau_int, b.converged) == (0.0, 0.5, True)


# -------------------------------------------------------------------------- jackknife


def _variance(mean_x, mean_x2):
    return mean_x2 - mean_x**2


def test_jackknife_removes_the_bias_of_the_plug_in_variance():
    # Plug-in <x^2> - <x>^2 of n iid samples has mean sigma^2 (n-1)/n; the delete-one
    # jackknife of it is exactly unbiased. n = 20: a 5 % bias, resolved at > 10 sd.
    rng = np.random.default_rng(SEED_JACKKNIFE_BIAS)
    sigma2, n, reps = 4.0, 20, 4000
    x = 1.5 + math.sqrt(sigma2) * rng.standard_normal((reps, n))
    values = np.array([jackknife(_variance, row, row**2, n_blocks=n).value for row in x])
    se = math.sqrt(2 * sigma2**2 / (n - 1) / reps)  # sd of the unbiased s^2 over reps
    assert abs(values.mean() - sigma2) < 4 * se
    plug_in = x.var(axis=1).mean()
    assert abs(plug_in - sigma2 * (n - 1) / n) < 4 * se
    assert sigma2 / n > 8 * se  # the bias the correction removes is resolved
    # Delete-one jackknife of the plug-in variance *is* the unbiased sample variance.
    np.testing.assert_allclose(values, x.var(axis=1, ddof=1), rtol=1e-10)


def test_jackknife_error_of_variance_matches_exact_formula():
    # Var(s^2) = 2 sigma^4 / (n - 1) for Gaussian data.
    rng = np.random.default_rng(SEED_JACKKNIFE_ERROR)
    sigma2, n, reps, n_blocks = 2.0, 2000, 600, 50
    x = math.sqrt(sigma2) * rng.standard_normal((reps, n))
    err2 = np.array([jackknife(_variance, r, r**2, n_blocks=n_blocks).error ** 2 for r in x])
    exact = 2 * sigma2**2 / (n - 1)
    assert abs(err2.mean() / exact - 1) < 4 * err2.std(ddof=1) / exact / math.sqrt(reps)
    # ... and the error-of-error is the chi^2_{B-1} one: sd(err^2)/err^2 = sqrt(2/(B-1)).
    assert err2.std(ddof=1) / exact == pytest.approx(math.sqrt(2 / (n_blocks - 1)), rel=0.2)


def test_jackknife_of_a_mean_is_the_blocked_mean_and_error():
    rng = np.random.default_rng(SEED_SMALL)
    x = rng.standard_normal((3, 103))  # 103 = 10 * 10 + 3: the first 3 samples are dropped
    v, e = jackknife(lambda a: a, x, n_blocks=10)
    blocks = x[:, 3:].reshape(3, 10, 10).mean(axis=-1).ravel()
    assert v == pytest.approx(blocks.mean(), rel=1e-12)
    assert e == pytest.approx(blocks.std(ddof=1) / math.sqrt(blocks.size), rel=1e-12)


def test_jackknife_falls_back_to_a_loop_for_scalar_functions():
    rng = np.random.default_rng(SEED_SMALL)
    x = rng.uniform(1.0, 2.0, 500)
    vectorised = jackknife(lambda a, b: np.log(b) - a, x, x**2, n_blocks=25)
    scalar_only = jackknife(lambda a, b: math.log(b) - a, x, x**2, n_blocks=25)
    assert vectorised == pytest.approx(scalar_only, rel=1e-12)


def test_jackknife_with_automatic_blocks_is_honest_for_correlated_data():
    rng = np.random.default_rng(SEED_JACKKNIFE_AR1)
    phi, shape = 0.9, (4, 2**16)
    x = ar1(rng, phi, shape)
    nb = auto_n_blocks(shape[1], integrated_time(x).tau_int)
    assert nb == 200  # 2**16 // ceil(20 * 9.5) = 344, capped at 200
    _, err = jackknife(lambda a: a, x)
    exact = math.sqrt(var_mean_exact(phi, shape[1], shape[0]))
    b = shape[1] // nb
    bias = tau_exact(phi) / b  # neighbour-block correlation lowers err^2 by ~ tau/b
    assert abs(err**2 / exact**2 - 1) < 4 * math.sqrt(2 / (4 * nb - 1)) + bias


def test_auto_n_blocks_warns_when_blocks_must_be_short():
    assert auto_n_blocks(10_000, 0.5) == 200
    assert auto_n_blocks(10_000, 20.0) == 25
    with pytest.warns(ShortSeriesWarning, match="expected chains of at least 4000 samples"):
        assert auto_n_blocks(1000, 20.0) == 10


# ------------------------------------------------------------------------------ R-hat


def test_split_rhat_by_hand():
    chains = np.array([[1.0, 2, 3, 4], [2.0, 3, 4, 5]])
    # halves [1,2],[2,3],[3,4],[4,5]: W = 0.5, B/N = var(1.5,2.5,3.5,4.5) = 5/3, N = 2
    expected = math.sqrt((0.5 * 0.5 + 5 / 3) / 0.5)
    assert split_rhat(chains, rank_normalize=False) == pytest.approx(expected, rel=1e-12)
    # an odd chain drops its middle sample
    odd = np.array([[1.0, 2, 99, 3, 4], [2.0, 3, -99, 4, 5]])
    assert split_rhat(odd, rank_normalize=False) == pytest.approx(expected, rel=1e-12)


def test_split_rhat_is_one_for_chains_of_one_distribution():
    rng = np.random.default_rng(SEED_RHAT)
    x = ar1(rng, 0.5, (8, 4000))
    # Under H0 R^2 - 1 ~ (2 tau/N_half) chi2_{M-1}/(M-1) - 1/N_half ~ 1e-3.
    assert split_rhat(x) < 1.01
    assert split_rhat(x, rank_normalize=False) < 1.01


def test_split_rhat_detects_shifted_means_and_scales():
    rng = np.random.default_rng(SEED_RHAT)
    x = ar1(rng, 0.5, (4, 4000))
    shifted = x + np.array([0.0, 0.5, 1.0, 1.5])[:, None]
    assert split_rhat(shifted) > 1.1
    assert split_rhat(shifted, rank_normalize=False) > 1.1
    # Chains that differ only in scale: invisible to the classic R-hat, caught by the
    # folded (tail) rank-normalised one.
    scaled = x * np.array([1.0, 1.0, 3.0, 3.0])[:, None]
    assert split_rhat(scaled, rank_normalize=False) < 1.01
    assert split_rhat(scaled) > 1.1
    # within a chain, a drift between halves is caught even for one chain
    drift = x[0] + np.linspace(0, 2, x.shape[1])
    assert split_rhat(drift) > 1.1


def test_estimate_reports_rhat_across_chains():
    rng = np.random.default_rng(SEED_RHAT)
    x = ar1(rng, 0.5, (4, 4000)) + np.array([0.0, 0.5, 1.0, 1.5])[:, None]
    # Chains that disagree also inflate the pooled tau_int (about the grand mean) far
    # beyond the true 1.5, and the series is flagged.
    with pytest.warns(ShortSeriesWarning):
        est = estimate(x)
    assert est.rhat == pytest.approx(split_rhat(x)) and est.rhat > 1.1
    assert est.tau_int > 50


# ------------------------------------------------------------------------- bad input


def test_one_element_series_is_rejected():
    with pytest.raises(InvalidParameterError, match=r"expected at least 2 samples .*; got 1"):
        estimate([1.0])
    with pytest.raises(InvalidParameterError, match=r"expected at least 2 samples .*; got 1"):
        integrated_time(np.ones((3, 1)))
    with pytest.raises(InvalidParameterError, match=r"expected at least 4 samples .*; got 3"):
        split_rhat(np.ones((2, 3)))
    with pytest.raises(InvalidParameterError, match=r"expected at least 4 samples .*; got 3"):
        binning_analysis(np.ones(3))


def test_three_dimensional_input_is_rejected():
    msg = r"expected x of shape \(n,\) or \(n_chains, n\); got shape \(2, 3, 4\)"
    for f in (autocorrelation, integrated_time, binning_analysis):
        with pytest.raises(ShapeError, match=msg):
            f(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match=r"expected chains of shape .*; got shape \(2, 3, 4\)"):
        estimate(np.zeros((2, 3, 4)))


def test_non_finite_and_complex_input_is_rejected():
    msg = "expected finite values in x; got 1 non-finite"
    with pytest.raises(InvalidParameterError, match=msg):
        integrated_time([1.0, np.nan, 2.0])
    with pytest.raises(ShapeError, match="expected real values in x; got dtype complex128"):
        autocorrelation(np.ones(4, dtype=complex))


def test_bad_jackknife_arguments_are_rejected():
    x = np.arange(10.0)
    msg = r"expected an integer 2 <= n_blocks <= n = 10; got n_blocks="
    with pytest.raises(InvalidParameterError, match=msg + "11"):
        jackknife(lambda a: a, x, n_blocks=11)
    with pytest.raises(InvalidParameterError, match=msg + "1$"):
        jackknife(lambda a: a, x, n_blocks=1)
    msg = r"expected samples of identical shape; got \[\(1, 10\), \(1, 9\)\]"
    with pytest.raises(ShapeError, match=msg):
        jackknife(lambda a, b: a * b, x, x[:9], n_blocks=3)
    msg = "expected at least one sample series; got none"
    with pytest.raises(InvalidParameterError, match=msg):
        jackknife(lambda: 1.0)
    with pytest.raises(ShapeError, match=r"expected func to return a scalar; got shape \(2,\)"):
        jackknife(lambda a: np.array([a, a]), x, n_blocks=5)


def test_bad_parameters_are_rejected():
    with pytest.raises(InvalidParameterError, match=r"expected a window factor c > 0; got 0.0"):
        integrated_time(np.arange(10.0), c=0)
    with pytest.raises(InvalidParameterError, match=r"expected 0 < significance < 1; got 1.5"):
        binning_analysis(np.arange(10.0), significance=1.5)
    with pytest.raises(InvalidParameterError, match=r"expected an error >= 0; got -0.1"):
        format_value_error(1.0, -0.1)
    with pytest.raises(InvalidParameterError, match=r"expected tau_int > 0; got -1.0"):
        auto_n_blocks(100, -1.0)
