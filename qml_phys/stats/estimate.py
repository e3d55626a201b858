r"""The one type for a number with an error bar: :class:`Estimate`.

Every estimate of the package -- a Monte Carlo mean (:func:`qml_phys.stats.timeseries.estimate`),
a bootstrap variance (:func:`qml_phys.stats.bootstrap.bootstrap_variance`), a crossing
temperature, a fitted rate -- is an :class:`Estimate`. A field that was not measured is
``None`` or ``nan``, never ``0``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from qml_phys.errors import InvalidParameterError, check_positive_int

__all__ = ["Estimate", "format_value_error"]


def format_value_error(value: float, error: float, digits: int = 2) -> str:
    """Compact ``value(error)`` notation: ``format_value_error(1.23456, 0.0067) == "1.2346(67)"``.

    The error is rounded to ``digits`` significant digits and written, in parentheses, in
    units of the last digit shown of the value: ``(12.345, 1.234) -> "12.3(12)"``,
    ``(1234.5, 123.4) -> "1230(120)"``. A zero error gives ``"v(0)"``; a non-finite one
    ``"v(nan)"`` / ``"v(inf)"``.
    """
    digits = check_positive_int("digits", digits)
    value, error = float(value), float(error)
    if error < 0:
        raise InvalidParameterError(f"expected an error >= 0; got {error!r}")
    if not math.isfinite(error) or not math.isfinite(value):
        return f"{value:g}({error:g})"
    if error == 0:
        return f"{value:g}(0)"
    decimals = digits - 1 - math.floor(math.log10(error))
    rounded = round(error, decimals)
    if rounded >= 10 ** (digits - decimals):  # 0.0996 -> 0.10: one digit fewer
        decimals -= 1
    if decimals > 0:
        return f"{value:.{decimals}f}({round(error * 10**decimals):d})"
    scale = 10 ** (-decimals)
    return f"{round(value / scale) * scale:d}({round(error / scale) * scale:d})"


class Estimate(NamedTuple):
    """A number with an honest error bar (in the spirit of ``netket.stats.Stats``).

    Attributes:
        mean: the estimate (a mean, a variance, a fitted value).
        error: its standard error (one standard deviation).
        tau_int: Sokal's integrated autocorrelation time of the underlying series (1/2 for
            independent samples; ``nan`` when not a time series).
        n_eff: effective number of independent samples.
        rhat: split-R-hat across chains (``nan`` for one chain, or not a chain).
        low, high: ends of a ``level`` interval (a bootstrap percentile interval), or None.
        level: the coverage of ``[low, high]``, or None.
        log_error: standard error of ``ln mean`` (for positive quantities fitted on a log
            scale), or None.
    """

    mean: float
    error: float
    tau_int: float = math.nan
    n_eff: float = math.nan
    rhat: float = math.nan
    low: float | None = None
    high: float | None = None
    level: float | None = None
    log_error: float | None = None

    @property
    def value(self) -> float:
        """The estimate (``mean``)."""
        return self.mean

    @property
    def stderr(self) -> float:
        """The standard error (``error``)."""
        return self.error

    def __str__(self) -> str:
        return (
            f"{format_value_error(self.mean, self.error)} "
            f"[tau_int={self.tau_int:.3g}, n_eff={self.n_eff:.4g}, rhat={self.rhat:.4f}]"
        )
