r"""Learning foundations on physics data (Mehta et al., Phys. Rep. 810, 1 (2019),
arXiv:1803.08823).

* :mod:`~qml_phys.learning.regression` — learning the couplings of a 1D Ising chain from
  its energies: OLS (least norm), ridge, LASSO (FISTA in JAX, KKT-checked), the Bayesian
  reading of ridge with credible intervals, R² along the regularisation path.
* :mod:`~qml_phys.learning.logistic` — logistic (softmax) regression as a phase classifier
  of 2D Ising configurations, softmax as a Boltzmann distribution, a one-hidden-layer
  network with the trainer's regularisation switches, temperature regression.
* :mod:`~qml_phys.learning.bias_variance` — empirical bias–variance decomposition over
  bootstrapped training sets for models of growing capacity.
* :mod:`~qml_phys.learning.optimisers` — SGD, momentum and Adam on the same task, several
  independent runs at once (``vmap``), loss against steps, wall time and learning rate.
* :mod:`~qml_phys.learning.landscape` — Hessian spectra by Lanczos on Hessian–vector
  products, sharpness, and mode connectivity along a trained quadratic Bézier curve.
* :mod:`~qml_phys.learning.information` — entropy, cross-entropy, KL divergence and mutual
  information of discrete distributions (0 log 0 = 0).

Randomness comes from a keyword-only JAX ``key``; algorithms take a frozen config where
they have many settings and return frozen :class:`~qml_phys.runtime.results.Result`
dataclasses. This package never imports NetKet or PennyLane.
"""
