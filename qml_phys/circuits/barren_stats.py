r"""Statistics for barren-plateau studies: bootstrap intervals on gradient variances, the
fitted decay rate of :math:`\ln \mathrm{Var}` with qubit number, exponential against
polynomial decay, the shot-noise-corrected variance, and the unitary 2-design reference.

Pure numpy/scipy; randomness from an explicit JAX key (turned into bootstrap indices once).

References: B. Efron and R. Tibshirani, *An Introduction to the Bootstrap* (1993) for the
percentile interval; J. R. McClean et al., Nat. Commun. 9, 4812 (2018), arXiv:1803.11173,
and M. Cerezo et al., Nat. Commun. 12, 1791 (2021), arXiv:2001.00550, for the decay laws;
H. Akaike, IEEE Trans. Autom. Control 19, 716 (1974), doi:10.1109/TAC.1974.1100705.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.stats

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int

__all__ = [
    "DecayFit",
    "VarianceEstimate",
    "bootstrap_variance",
    "compare_decay",
    "fit_decay",
    "resample_counts",
    "shot_corrected_variance",
    "two_design_variance",
]


class VarianceEstimate(NamedTuple):
    """A variance with its bootstrap standard error and percentile interval."""

    value: float
    """The sample variance (``ddof=1``) of the full sample."""
    stderr: float
    """Standard deviation of the bootstrap replicas."""
    low: float
    """Lower end of the ``level`` percentile interval."""
    high: float
    """Upper end of the ``level`` percentile interval."""
    log_stderr: float
    """Standard deviation of the log of the (positive) bootstrap replicas: the error of
    ``ln value`` used to weight decay fits."""
    level: float


def resample_counts(key, n: int, n_boot: int) -> np.ndarray:
    """Bootstrap multiplicities ``(n_boot, n)`` float64: row ``b`` counts how often each of
    the ``n`` observations is drawn (with replacement, ``n`` draws) in replica ``b``."""
    import jax

    n = check_positive_int("n", n, minimum=2)
    n_boot = check_positive_int("n_boot", n_boot, minimum=2)
    idx = np.asarray(jax.random.randint(key, (n_boot, n), 0, n))
    flat = idx + n * np.arange(n_boot)[:, None]
    return np.bincount(flat.ravel(), minlength=n * n_boot).reshape(n_boot, n).astype(np.float64)


def _variances(counts: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Weighted sample variances (``ddof=1``) of ``x (n, ...)`` for each row of counts."""
    n = x.shape[0]
    flat = x.reshape(n, -1)
    mean = flat.mean(axis=0)
    d = flat - mean  # centred: no cancellation for tiny variances
    s1 = counts @ d
    s2 = counts @ (d * d)
    return ((s2 - s1 * s1 / n) / (n - 1)).reshape((counts.shape[0],) + x.shape[1:])


def _estimate(value: float, reps: np.ndarray, level: float) -> VarianceEstimate:
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    pos = reps[reps > 0]
    log_se = float(np.std(np.log(pos), ddof=1)) if pos.size > 1 else math.inf
    return VarianceEstimate(
        float(value), float(np.std(reps, ddof=1)), float(lo), float(hi), log_se, level
    )


def _check_level(level: float) -> float:
    if not 0 < float(level) < 1:
        raise InvalidParameterError(f"level: expected a number in (0, 1); got {level!r}")
    return float(level)


def bootstrap_variance(
    samples, *, key, n_boot: int = 1000, level: float = 0.95, reduce: str = "mean"
) -> VarianceEstimate:
    """Variance of gradient samples with a bootstrap interval (resampling draws).

    Args:
        samples: ``(n_draws,)`` or ``(n_draws, n_params)`` gradients (one row per draw).
        key: JAX PRNG key of the bootstrap.
        n_boot: bootstrap replicas.
        level: coverage of the percentile interval.
        reduce: for 2-D samples, ``"mean"`` (variance averaged over parameters) or
            ``"first"`` (parameter 0 only).
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[0] < 2:
        raise ShapeError(
            f"samples: expected (n_draws >= 2,) or (n_draws >= 2, n_params); got {x.shape}"
        )
    if reduce not in ("mean", "first"):
        raise InvalidParameterError(f"reduce: expected 'mean' or 'first'; got {reduce!r}")
    level = _check_level(level)
    if x.ndim == 2 and reduce == "first":
        x = x[:, 0]
    counts = resample_counts(key, x.shape[0], n_boot)
    reps = _variances(counts, x)
    full = x.var(axis=0, ddof=1)
    if x.ndim == 2:
        reps, full = reps.mean(axis=1), full.mean()
    return _estimate(full, reps, level)


def shot_corrected_variance(
    grad_shots, shot_variance, *, key, n_boot: int = 1000, level: float = 0.95
) -> dict:
    r"""Separate the landscape variance from shot noise.

    With ``S`` shots per parameter-shift term the estimator is :math:`\hat g = g + \epsilon`
    with :math:`E[\epsilon | g] = 0` and :math:`E[\epsilon^2 | g] = v(g)`, so
    :math:`E[s^2(\hat g)] = \mathrm{Var}_\mathrm{landscape} + E[v]`: the corrected estimator
    :math:`s^2(\hat g) - \overline{v}` is unbiased.

    Args:
        grad_shots: ``(n_draws,)`` shot estimates of one gradient component.
        shot_variance: ``(n_draws,)`` per-draw variance of that estimator (exact from the
            probabilities, or estimated from the shots).
        key, n_boot, level: as in :func:`bootstrap_variance` (the same replicas are used for
            the observed and the corrected variance).

    Returns:
        ``{"observed": VarianceEstimate, "shot_variance": float, "corrected":
        VarianceEstimate}`` (the corrected interval may reach below zero).
    """
    g = np.asarray(grad_shots, dtype=np.float64)
    v = np.asarray(shot_variance, dtype=np.float64)
    if g.ndim != 1 or g.shape != v.shape or g.size < 2:
        raise ShapeError(
            f"expected grad_shots and shot_variance of the same shape (n_draws >= 2,); got "
            f"{g.shape} and {v.shape}"
        )
    level = _check_level(level)
    counts = resample_counts(key, g.size, n_boot)
    reps_obs = _variances(counts, g)
    reps_corr = reps_obs - counts @ v / g.size
    obs = g.var(ddof=1)
    return {
        "observed": _estimate(obs, reps_obs, level),
        "shot_variance": float(v.mean()),
        "corrected": _estimate(obs - v.mean(), reps_corr, level),
    }


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
    level = _check_level(level)
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


#: ``E[Tr A^2]`` (see :func:`two_design_variance`) for the first parameter of each circuit:
#: HEA: RY on |0>, (1 - <Y>^2)/2 = 1/2; random Pauli on |0>: (1 - 1/3)/2 = 1/3; McClean's
#: random Pauli on RY(pi/4)|0> (<X>^2 = <Z>^2 = 1/2, <Y> = 0): (1 - 1/3)/2 = 1/3.
_FIRST = {"hea": 0.5, "random": 1.0 / 3.0, "mcclean": 1.0 / 3.0}


def two_design_variance(
    n_qubits: int, cost: str, *, which: str = "mean", gates: str = "hea"
) -> float:
    r"""Gradient variance when the circuit after (and before) the parameter is a 2-design.

    For :math:`C = \mathrm{Tr}(O\,U_+ R(\theta) \rho_- R^\dagger U_+^\dagger)` with a Pauli
    rotation :math:`R = e^{-i\theta P/2}` and :math:`U_+` Haar-random on :math:`N = 2^n`
    dimensions, the second moment of the Haar average gives

    .. math:: \mathrm{Var}[\partial_\theta C] = E[\mathrm{Tr} A^2]\,
       \frac{\mathrm{Tr}\,O^2 - (\mathrm{Tr}\,O)^2/N}{N^2 - 1},\qquad
       A = -i[P/2, \rho_-],\quad \mathrm{Tr} A^2 = \tfrac12(1 - \langle P\rangle^2).

    ``which="mean"``: :math:`\rho_-` also Haar-random, :math:`E\langle P\rangle^2 =
    1/(N+1)`, so :math:`E[\mathrm{Tr} A^2] = N / (2(N+1))` (parameters deep inside the
    circuit). ``which="first"``: the first gate acts on the known input state (see
    ``_FIRST``). Global projector: :math:`1/(2(N+1)^2)` (``-> ln 4`` per qubit); ``Z_0Z_1``:
    :math:`N^2/(2(N+1)^2(N-1))` (``-> ln 2`` per qubit), as in McClean et al. (2018) and
    Cerezo et al. (2021).
    """
    from qml_phys.circuits.barren import COSTS, GATES, cost_values

    n = check_positive_int("n_qubits", n_qubits)
    if cost not in COSTS or gates not in GATES or which not in ("mean", "first"):
        raise InvalidParameterError(
            f"expected cost in {COSTS}, gates in {GATES}, which in ('mean', 'first'); got "
            f"{cost!r}, {gates!r}, {which!r}"
        )
    f = cost_values(n, cost)
    N = float(2**n)
    spread = float(np.sum(f * f) - np.sum(f) ** 2 / N)
    tr_a2 = N / (2 * (N + 1)) if which == "mean" else _FIRST[gates]
    return tr_a2 * spread / (N * N - 1)
