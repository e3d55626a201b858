r"""The fits of the package, with intervals: decay laws, crossings, finite-size scaling.

*Decay laws.*
:func:`fit_decay` fits :math:`\ln V = a - b\,x` (exponential in ``n``, or polynomial with
``x = ln n``) with errors on :math:`\ln V`; :func:`compare_decay` compares the two by
their residual chi-square and AIC. References: J. R. McClean et al., Nat. Commun. 9, 4812
(2018), arXiv:1803.11173, and M. Cerezo et al., Nat. Commun. 12, 1791 (2021),
arXiv:2001.00550, for the decay laws; H. Akaike, IEEE Trans. Autom. Control 19, 716
(1974), doi:10.1109/TAC.1974.1100705.

*Crossings.* :func:`crossing` finds where a curve crosses a level (in logit space for a
probability); :func:`bootstrap_crossing` adds a bootstrap error that resamples the
configurations at every temperature independently (the 0.5 crossing of a phase classifier,
J. Carrasquilla and R. G. Melko, Nat. Phys. 13, 431 (2017), arXiv:1605.01735);
:func:`curves_crossing` finds where two curves cross (Binder cumulants of two sizes).

*Finite-size scaling.* :func:`fss_fit` extrapolates :math:`T_c(L) = T_c + a L^{-1/\nu}` by
weighted least squares, with the errors scaled by :math:`\sqrt{\chi^2/\mathrm{dof}}` when
that exceeds 1.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import numpy as np
import scipy.stats

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int
from qml_phys.stats.bootstrap import check_level, resample_counts
from qml_phys.stats.estimate import Estimate

__all__ = [
    "Crossing",
    "Curve",
    "DecayFit",
    "FSSFit",
    "bootstrap_crossing",
    "compare_decay",
    "crossing",
    "curves_crossing",
    "fit_decay",
    "fss_fit",
    "temperature_average",
]


class DecayFit(NamedTuple):
    r"""Weighted least-squares fit of :math:`\ln \mathrm{Var} = a - b\,x` with ``x = n``
    (exponential decay, ``b`` per qubit) or ``x = ln n`` (polynomial, ``Var ~ n^-b``)."""

    model: str
    rate: float
    """``b``: the decay rate (per qubit, or the power of ``n``)."""
    stderr: float
    """Standard error of ``b`` from the given errors, scaled by ``sqrt(chi2/dof)`` when that
    exceeds 1 (then the interval uses Student t with ``dof``, else the normal quantile)."""
    low: float
    high: float
    intercept: float
    chi2: float
    dof: int
    p_value: float
    """Goodness of fit: ``P(chi2_dof >= chi2)`` (``nan`` with no degree of freedom)."""
    aic: float
    level: float


def fit_decay(
    ns, variances, log_errors, *, model: str = "exponential", level: float = 0.95
) -> DecayFit:
    """Fit the decay of variances with qubit number (see :class:`DecayFit`).

    Args:
        ns: qubit counts ``(k,)``, ``k >= 2``.
        variances: ``(k,)`` positive variances.
        log_errors: ``(k,)`` standard errors of ``ln variances`` (bootstrap
            :attr:`VarianceEstimate.log_stderr`); the weights are ``1 / log_errors**2``.
        model: ``"exponential"`` or ``"polynomial"``.
        level: coverage of the interval on the rate (see :attr:`DecayFit.stderr`).
    """
    if model not in ("exponential", "polynomial"):
        raise InvalidParameterError(f"model: expected 'exponential' or 'polynomial'; got {model!r}")
    level = check_level(level)
    n = np.asarray(ns, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    s = np.asarray(log_errors, dtype=np.float64)
    if not (n.ndim == 1 and n.shape == v.shape == s.shape and n.size >= 2):
        raise ShapeError(
            f"expected ns, variances, log_errors of one shape (k >= 2,); got {n.shape}, "
            f"{v.shape}, {s.shape}"
        )
    if np.any(v <= 0) or np.any(~np.isfinite(s)) or np.any(s <= 0):
        raise InvalidParameterError(
            f"expected positive variances with finite positive log errors; got variances "
            f"{v.tolist()} and log errors {s.tolist()}"
        )
    x = n if model == "exponential" else np.log(n)
    X = np.stack([np.ones_like(x), -x], axis=1)
    w = 1.0 / s**2
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    a, b = cov @ (X.T @ (w * np.log(v)))
    chi2 = float(np.sum(w * (np.log(v) - X @ np.array([a, b])) ** 2))
    dof = n.size - 2
    # errors known: normal interval; residuals larger than the errors (chi2 > dof): the
    # errors were too small, so scale them by sqrt(chi2/dof) and use Student t (Birge ratio)
    inflate = dof > 0 and chi2 > dof
    se = math.sqrt(cov[1, 1] * (chi2 / dof if inflate else 1.0))
    if inflate:
        q = scipy.stats.t.ppf((1 + level) / 2, dof)
    else:
        q = scipy.stats.norm.ppf((1 + level) / 2)
    p = float(scipy.stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan
    return DecayFit(
        model,
        float(b),
        se,
        float(b - q * se),
        float(b + q * se),
        float(a),
        chi2,
        dof,
        p,
        chi2 + 4.0,
        level,
    )


def compare_decay(ns, variances, log_errors, *, alpha: float = 0.05) -> dict:
    r"""Exponential (:math:`\ln V` linear in ``n``) against polynomial (linear in ``ln n``).

    Both models have two parameters, so the AIC difference is the chi-square difference.
    A model is *rejected* when its weighted residual chi-square has p-value below
    ``alpha``. Cerezo's local-cost regime shows as the exponential rejected while the
    polynomial is not.

    Returns:
        ``{"exponential": DecayFit, "polynomial": DecayFit, "delta_aic"`` (exponential minus
        polynomial; positive favours polynomial), ``"akaike_weight_polynomial",
        "preferred", "exponential_rejected", "polynomial_rejected", "alpha"}``.
    """
    exp = fit_decay(ns, variances, log_errors, model="exponential")
    poly = fit_decay(ns, variances, log_errors, model="polynomial")
    d = exp.aic - poly.aic
    return {
        "exponential": exp,
        "polynomial": poly,
        "delta_aic": d,
        "akaike_weight_polynomial": float(1.0 / (1.0 + math.exp(-d / 2))) if d > -700 else 0.0,
        "preferred": "polynomial" if d > 0 else "exponential",
        "exponential_rejected": bool(exp.p_value < alpha),
        "polynomial_rejected": bool(poly.p_value < alpha),
        "alpha": alpha,
    }


# --------------------------------------------------------------------------- crossings
class Curve(NamedTuple):
    """A per-temperature average with its standard error."""

    temperatures: np.ndarray
    mean: np.ndarray
    error: np.ndarray
    count: np.ndarray


def temperature_average(values, T) -> Curve:
    """Mean and standard error of ``values`` ``(n,)`` at every distinct ``T``."""
    values, T = np.asarray(values, np.float64), np.asarray(T, np.float64)
    if values.shape != T.shape:
        raise ShapeError(f"expected values and T of the same shape; got {values.shape}, {T.shape}")
    temps = np.unique(T)
    groups = [values[T == t] for t in temps]
    mean = np.array([g.mean() for g in groups])
    err = np.array([g.std(ddof=1) / math.sqrt(len(g)) if len(g) > 1 else np.nan for g in groups])
    return Curve(temps, mean, err, np.array([len(g) for g in groups]))


def crossing(temperatures, y, level: float = 0.5, *, logit: bool = True) -> float:
    r"""Temperature where the curve ``y(T)`` crosses ``level`` (linear interpolation in
    :math:`\operatorname{logit} y` when ``logit``, else in ``y``). With several crossings
    (noise on a flat curve) their mean is returned; none raises."""
    t = np.asarray(temperatures, np.float64)
    y = np.asarray(y, np.float64)
    if logit:
        eps = 1e-6
        yc = np.clip(y, eps, 1 - eps)
        y, level = np.log(yc / (1 - yc)), math.log(level / (1 - level))
    d = y - level
    idx = np.flatnonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)
    idx = idx[d[idx] != d[idx + 1]]
    if not len(idx):
        raise InvalidParameterError(
            f"the curve never crosses {level if not logit else 0.5} on T in "
            f"[{t.min():.5g}, {t.max():.5g}]; expected data on both sides of the transition"
        )
    x = t[idx] + (t[idx + 1] - t[idx]) * d[idx] / (d[idx] - d[idx + 1])
    return float(np.mean(x))


def curves_crossing(T, y_small, y_large) -> float:
    """Temperature where two curves cross, e.g. the Binder cumulants of two sizes (linear
    interpolation between the grid points around a sign change of ``y_large - y_small``; the
    middle one if noise makes several; nan if they do not cross)."""
    T = np.asarray(T, np.float64)
    d = np.asarray(y_large, np.float64) - np.asarray(y_small, np.float64)
    found = [float(T[i]) for i in np.nonzero(d == 0)[0]]
    found += [
        float(T[i] - d[i] * (T[i + 1] - T[i]) / (d[i + 1] - d[i]))
        for i in np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
    ]
    return sorted(found)[len(found) // 2] if found else float("nan")


class Crossing(NamedTuple):
    """A 0.5 crossing with its bootstrap error."""

    value: float
    error: float
    samples: np.ndarray
    """Bootstrap replicas of the crossing."""
    curve: Curve

    @property
    def estimate(self) -> Estimate:
        """The crossing as an :class:`~qml_phys.stats.estimate.Estimate` (the bootstrap
        standard deviation as its error; the 16th-84th percentiles of the replicas as its
        interval)."""
        ok = self.samples[np.isfinite(self.samples)]
        low, high = (float(x) for x in np.percentile(ok, [15.865, 84.135]))
        return Estimate(mean=self.value, error=self.error, low=low, high=high, level=0.6827)


def _bootstrap_means(values, T, temperatures, *, key: jax.Array, n_boot: int) -> np.ndarray:
    """Bootstrap replicas ``(n_boot, n_T)`` of the mean of ``values`` at every temperature of
    ``temperatures``: the configurations at each temperature are resampled with replacement,
    independently (:func:`~qml_phys.stats.bootstrap.resample_counts` with
    ``fold_in(key, j)`` for the ``j``-th temperature)."""
    boot = np.empty((n_boot, len(temperatures)))
    for j, t in enumerate(temperatures):
        g = values[T == t]
        if len(g) < 2:  # one configuration: every replica is that configuration
            boot[:, j] = g.mean()
            continue
        counts = resample_counts(jax.random.fold_in(key, j), len(g), n_boot)
        boot[:, j] = counts @ g / len(g)
    return boot


def bootstrap_crossing(
    values, T, *, key: jax.Array, level: float = 0.5, n_boot: int = 200, logit: bool = True
) -> Crossing:
    """Crossing of the per-temperature mean of ``values`` ``(n,)`` with ``level``, with a
    bootstrap error: the configurations at every temperature are resampled with
    replacement, independently."""
    n_boot = check_positive_int("n_boot", n_boot, minimum=2)
    curve = temperature_average(values, T)
    values, T = np.asarray(values, np.float64), np.asarray(T, np.float64)
    boot = _bootstrap_means(values, T, curve.temperatures, key=key, n_boot=n_boot)
    value = crossing(curve.temperatures, curve.mean, level, logit=logit)
    samples = np.full(n_boot, np.nan)
    for i, b in enumerate(boot):
        try:
            samples[i] = crossing(curve.temperatures, b, level, logit=logit)
        except InvalidParameterError:  # a replica without a crossing: leave it out
            pass
    ok = samples[np.isfinite(samples)]
    if len(ok) < max(2, n_boot // 2):
        raise InvalidParameterError(
            f"only {len(ok)} of {n_boot} bootstrap replicas cross {level}; the crossing is not "
            "determined by the data (more configurations per temperature are needed)"
        )
    return Crossing(value, float(ok.std(ddof=1)), samples, curve)


# --------------------------------------------------------------------------- finite-size scaling
class FSSFit(NamedTuple):
    r""":math:`T_c(L) = T_c + a L^{-1/\nu}`, weighted least squares."""

    Tc: float
    Tc_error: float
    a: float
    a_error: float
    chi2: float
    dof: int
    nu: float
    error_scale: float
    """Factor applied to the parameter errors: ``max(1, sqrt(chi2/dof))``."""


def fss_fit(sizes, tc, tc_error, *, nu: float = 1.0) -> FSSFit:
    r"""Extrapolate :math:`T_c(L)` to :math:`L \to \infty` with :math:`T_c + a L^{-1/\nu}`.

    Needs at least two distinct sizes and positive, finite errors.
    """
    L = np.asarray(sizes, np.float64)
    y = np.asarray(tc, np.float64)
    s = np.asarray(tc_error, np.float64)
    if not (L.shape == y.shape == s.shape and L.ndim == 1):
        raise ShapeError(
            f"expected sizes, tc and tc_error of one common length; got {L.shape}, {y.shape}, "
            f"{s.shape}"
        )
    if len(np.unique(L)) < 2:
        raise InvalidParameterError(
            "finite-size scaling needs at least two lattice sizes; got "
            f"{sorted(set(int(x) for x in L))} (write a dataset with several --L)"
        )
    if not np.all(np.isfinite(s) & (s > 0)):
        raise InvalidParameterError(f"expected finite errors > 0; got {s.tolist()}")
    A = np.stack([np.ones_like(L), L ** (-1.0 / nu)], axis=1)
    w = 1.0 / s**2
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    p = cov @ (A.T @ (w * y))
    chi2 = float(np.sum(w * (y - A @ p) ** 2))
    dof = len(L) - 2
    scale = max(1.0, math.sqrt(chi2 / dof)) if dof > 0 else 1.0
    err = np.sqrt(np.diag(cov)) * scale
    return FSSFit(float(p[0]), float(err[0]), float(p[1]), float(err[1]), chi2, dof, nu, scale)
