"""Moved to :mod:`qml_phys.stats` (``timeseries``, ``estimate``, ``goodness``); these names
stay importable from here while the other areas move over."""

from qml_phys.stats.estimate import Estimate, format_value_error
from qml_phys.stats.goodness import chi_square_pvalue, level_counts
from qml_phys.stats.timeseries import (
    Binning,
    IntegratedTime,
    Jackknife,
    ShortSeriesWarning,
    auto_n_blocks,
    autocorrelation,
    binning_analysis,
    estimate,
    integrated_time,
    jackknife,
    split_rhat,
)

__all__ = [
    "Binning",
    "Estimate",
    "IntegratedTime",
    "Jackknife",
    "ShortSeriesWarning",
    "auto_n_blocks",
    "autocorrelation",
    "binning_analysis",
    "chi_square_pvalue",
    "estimate",
    "format_value_error",
    "integrated_time",
    "jackknife",
    "level_counts",
    "split_rhat",
]
