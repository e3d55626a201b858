r"""Weighted least-squares fits of decay laws with intervals, and model comparison.

:func:`fit_decay` fits :math:`\ln V = a - b\,x` (exponential in ``n``, or polynomial with
``x = ln n``) with errors on :math:`\ln V`; :func:`compare_decay` compares the two by
their residual chi-square and AIC. References: J. R. McClean et al., Nat. Commun. 9, 4812
(2018), arXiv:1803.11173, and M. Cerezo et al., Nat. Commun. 12, 1791 (2021),
arXiv:2001.00550, for the decay laws; H. Akaike, IEEE Trans. Autom. Control 19, 716
(1974), doi:10.1109/TAC.1974.1100705.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.stats

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.stats.bootstrap import check_level

__all__ = ["DecayFit", "compare_decay", "fit_decay"]


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
