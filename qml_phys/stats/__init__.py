r"""Statistics shared by every area: estimates with error bars, the bootstrap, fits.

* :mod:`~qml_phys.stats.estimate` - :class:`Estimate`, the one type of a number with an
  error bar (mean, error, tau_int, n_eff, R-hat, an interval where there is one);
* :mod:`~qml_phys.stats.timeseries` - honest Monte Carlo error bars of recorded series:
  Sokal's integrated autocorrelation time, binning, the blocked jackknife, split-R-hat;
* :mod:`~qml_phys.stats.goodness` - sampled values against exact discrete distributions;
* :mod:`~qml_phys.stats.calibration` - how honest an error bar is, over many seeds;
* :mod:`~qml_phys.stats.bootstrap` - bootstrap resampling and variance estimates with
  percentile intervals (B. Efron and R. Tibshirani, *An Introduction to the Bootstrap*
  (1993));
* :mod:`~qml_phys.stats.fits` - weighted fits of decay laws with intervals and model
  comparison (H. Akaike, IEEE Trans. Autom. Control 19, 716 (1974)).

Pure numpy/scipy; randomness from an explicit JAX key. Nothing here imports an engine
(NetKet, PennyLane): the adapters (:mod:`qml_phys.nqs`, :mod:`qml_phys.circuits`) share
their statistics through this package.
"""

from qml_phys.stats.estimate import Estimate, format_value_error
from qml_phys.stats.goodness import chi_square_pvalue, level_counts
from qml_phys.stats.timeseries import (
    ShortSeriesWarning,
    autocorrelation,
    binning_analysis,
    estimate,
    integrated_time,
    jackknife,
    split_rhat,
)

__all__ = [
    "Estimate",
    "ShortSeriesWarning",
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
