r"""Statistics shared by every area: estimates with error bars, the bootstrap, fits.

* :mod:`~qml_phys.stats.bootstrap` - bootstrap resampling and variance estimates with
  percentile intervals (B. Efron and R. Tibshirani, *An Introduction to the Bootstrap*
  (1993));
* :mod:`~qml_phys.stats.fits` - weighted fits of decay laws with intervals and model
  comparison (H. Akaike, IEEE Trans. Autom. Control 19, 716 (1974)).

Pure numpy/scipy; randomness from an explicit JAX key. Nothing here imports an engine
(NetKet, PennyLane): the adapters (:mod:`qml_phys.nqs`, :mod:`qml_phys.circuits`) share
their statistics through this package.
"""
