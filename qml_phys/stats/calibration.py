r"""How honest is an error bar? Run an estimator over many independent keys against an
exact (or high-precision) reference and look at the z-scores.

For a calibrated estimator the z-scores :math:`z_k = (x_k - x_\mathrm{ref}) / \sigma_k` of
``K`` independent runs are close to standard normal:

* the RMS of ``z`` is near 1 (its sampling spread is about :math:`1/\sqrt{2K}`); above 1 the
  error bars are too small, below 1 too large;
* :math:`\chi^2 = \sum_k z_k^2` follows :math:`\chi^2_K`; the p-value
  :math:`P(\chi^2_K \ge \chi^2)` is small when the bars are too small (or the estimator
  biased), close to 1 when they are too large;
* the *coverage*, the fraction of runs whose ``level`` interval contains the reference, is
  near ``level`` (0.95 by default).

:func:`calibrate` runs one estimator; :class:`Calibration` holds the z-scores and these
numbers for every quantity the estimator reports. The table of the package's estimators is
made by ``python studies/calibration.py`` (see the docs).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping

import numpy as np
import scipy.stats

from qml_phys.errors import InvalidParameterError, check_positive_int
from qml_phys.runtime.results import Result

__all__ = ["Calibration", "calibrate", "calibration_row"]


def calibration_row(z, level: float = 0.95) -> dict:
    """``{"K", "rms_z", "rms_z_spread", "chi2", "p_value", "coverage", "bias_z"}`` of the
    z-scores ``z`` ``(K,)`` (non-finite z-scores are refused: a zero or missing error bar
    is not an error bar)."""
    z = np.asarray(z, np.float64).ravel()
    if z.size < 2 or not np.all(np.isfinite(z)):
        raise InvalidParameterError(
            f"expected at least 2 finite z-scores; got {z.size} of which "
            f"{int(np.sum(~np.isfinite(z)))} are not finite"
        )
    k = z.size
    chi2 = float(np.sum(z * z))
    q = scipy.stats.norm.ppf(0.5 + level / 2)
    return {
        "K": k,
        "rms_z": math.sqrt(chi2 / k),
        "rms_z_spread": 1.0 / math.sqrt(2 * k),
        "chi2": chi2,
        "p_value": float(scipy.stats.chi2.sf(chi2, k)),
        "coverage": float(np.mean(np.abs(z) <= q)),
        "bias_z": float(np.mean(z) * math.sqrt(k)),
    }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Calibration(Result):
    """Result of :func:`calibrate`: per quantity, the values, errors, z-scores and the
    calibration numbers (:func:`calibration_row`); ``history`` holds the z-scores by run."""

    name: str
    reference: dict[str, float]
    values: dict[str, np.ndarray]
    errors: dict[str, np.ndarray]
    rows: dict[str, dict]

    reported = ("name", "reference", "rows")


def calibrate(
    estimator: Callable,
    reference: Mapping[str, float] | float,
    *,
    key,
    n_seeds: int = 20,
    level: float = 0.95,
    name: str = "estimator",
) -> Calibration:
    """Run ``estimator(key)`` for ``n_seeds`` independent keys (``fold_in(key, k)``).

    Args:
        estimator: ``key -> {quantity: (value, error)}`` (or one ``(value, error)`` pair).
        reference: ``{quantity: exact value}`` (or one value), the same quantities.
        key: JAX PRNG key.
        n_seeds: number of independent runs ``K`` (>= 2).
        level: the interval whose coverage is reported.
        name: a label for the table.

    Returns:
        A :class:`Calibration`.
    """
    import jax

    n_seeds = check_positive_int("n_seeds", n_seeds, minimum=2)
    if not 0 < level < 1:
        raise InvalidParameterError(f"level: expected a number in (0, 1); got {level!r}")
    ref = dict(reference) if isinstance(reference, Mapping) else {"value": float(reference)}
    t0 = time.perf_counter()
    values: dict[str, list] = {k: [] for k in ref}
    errors: dict[str, list] = {k: [] for k in ref}
    for k in range(n_seeds):
        out = estimator(jax.random.fold_in(key, k))
        if not isinstance(out, Mapping):
            out = {"value": out}
        missing = set(ref) - set(out)
        if missing:
            raise InvalidParameterError(
                f"estimator: expected the quantities {sorted(ref)}; missing {sorted(missing)}"
            )
        for q in ref:
            v, e = out[q]
            values[q].append(float(v))
            errors[q].append(float(e) if e is not None else math.nan)
    vals = {q: np.asarray(v) for q, v in values.items()}
    errs = {q: np.asarray(e) for q, e in errors.items()}
    z = {q: (vals[q] - ref[q]) / errs[q] for q in ref}
    return Calibration(
        config={"n_seeds": n_seeds, "level": level},
        history=z,
        wall_time_s=time.perf_counter() - t0,
        name=name,
        reference={q: float(v) for q, v in ref.items()},
        values=vals,
        errors=errs,
        rows={q: calibration_row(z[q], level) for q in ref},
    )
