r"""Exactness tests: sampled values against exact discrete distributions (chi-square)."""

from __future__ import annotations

import numpy as np
import scipy.stats

from qml_phys.errors import InvalidParameterError, ShapeError

__all__ = ["chi_square_pvalue", "level_counts"]


def level_counts(values, levels, *, atol: float = 1e-3) -> np.ndarray:
    """Histogram of sampled ``values`` over the exact discrete ``levels`` (e.g. the energy
    levels of an enumerated lattice); raises if a value is not within ``atol`` of a level."""
    values = np.asarray(values, np.float64).ravel()
    levels = np.asarray(levels, np.float64).ravel()
    idx = np.argmin(np.abs(values[:, None] - levels[None, :]), axis=1)
    off = np.abs(levels[idx] - values) > atol
    if np.any(off):
        raise InvalidParameterError(
            f"expected every value to be one of the {levels.size} levels; got "
            f"{values[off][0]!r} (nearest level {levels[idx][off][0]!r})"
        )
    return np.bincount(idx, minlength=levels.size).astype(np.float64)


def chi_square_pvalue(
    observed, probabilities, *, min_expected: float = 5.0, min_bins: int = 2
) -> float:
    """Pearson chi-square p-value of ``observed`` counts against exact ``probabilities``.

    Bins expected fewer than ``min_expected`` times are pooled into one bin (merged into the
    smallest kept bin when the pool itself is too small), so the chi-square approximation
    holds. The samples behind the counts must be independent: thin a Markov chain by about
    ``2 tau_int`` first, or the p-value is too small.
    """
    observed = np.asarray(observed, np.float64).ravel()
    probabilities = np.asarray(probabilities, np.float64).ravel()
    if observed.shape != probabilities.shape:
        raise ShapeError(
            f"expected counts and probabilities of the same shape; got {observed.shape} "
            f"and {probabilities.shape}"
        )
    expected = probabilities * observed.sum()
    keep = expected >= min_expected
    obs, exp = list(observed[keep]), list(expected[keep])
    rest_o, rest_e = observed[~keep].sum(), expected[~keep].sum()
    if rest_e >= min_expected:
        obs.append(rest_o)
        exp.append(rest_e)
    elif (rest_e > 0 or rest_o > 0) and exp:
        j = int(np.argmin(exp))
        obs[j] += rest_o
        exp[j] += rest_e
    if len(exp) < min_bins:
        raise InvalidParameterError(
            f"expected at least {min_bins} bins with {min_expected:g} expected counts; got "
            f"{len(exp)}: draw more samples"
        )
    obs, exp = np.asarray(obs), np.asarray(exp)
    return float(scipy.stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue)
