r"""The bootstrap: resampling counts, variances with percentile intervals, and the
shot-noise-corrected variance.

Randomness from an explicit JAX key, turned into bootstrap multiplicities once; the rest
is numpy (B. Efron and R. Tibshirani, *An Introduction to the Bootstrap* (1993)).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int

__all__ = [
    "VarianceEstimate",
    "bootstrap_variance",
    "check_level",
    "resample_counts",
    "shot_corrected_variance",
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
    from qml_phys.runtime.resources import check_memory

    # indices (int32 and int64 copies), the flat bincount and the float64 counts
    check_memory(f"{n_boot} bootstrap replicas of {n} observations", 32.0 * n_boot * n)
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


def check_level(level: float) -> float:
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
    level = check_level(level)
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
    level = check_level(level)
    counts = resample_counts(key, g.size, n_boot)
    reps_obs = _variances(counts, g)
    reps_corr = reps_obs - counts @ v / g.size
    obs = g.var(ddof=1)
    return {
        "observed": _estimate(obs, reps_obs, level),
        "shot_variance": float(v.mean()),
        "corrected": _estimate(obs - v.mean(), reps_corr, level),
    }
