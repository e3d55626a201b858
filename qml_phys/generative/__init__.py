r"""Generative models over Ising spins ``s in {-1,+1}^N`` (and continuous fields).

One interface (:mod:`qml_phys.generative.base`): a model exposes ``log_prob(params, s)``
(normalised where the model allows it) and, where possible, exact
``sample(params, key, n)``. Modules:

* :mod:`~qml_phys.generative.evaluate` - exact KL by enumeration, observables of generated
  samples with error bars, comparison with Monte Carlo (z-scores, two-sample test);
* :mod:`~qml_phys.generative.rbm` - restricted Boltzmann machine (CD-k, PCD, exact and
  annealed-importance-sampling log Z);
* :mod:`~qml_phys.generative.hopfield` - Hopfield network (Hebbian storage, retrieval,
  capacity);
* :mod:`~qml_phys.generative.autoregressive` - MADE, PixelCNN, RNN and Transformer models
  with exact sampling;
* :mod:`~qml_phys.generative.van` - variational autoregressive networks for the Ising free
  energy (Wu, Wang, Zhang, PRL 122, 080602 (2019), arXiv:1809.10606);
* :mod:`~qml_phys.generative.adapter` - any model as a NetKet-compatible Flax module with
  ``log psi(s) = log p(s) / 2`` (warm starts for neural quantum states).

Nothing here imports NetKet or PennyLane.
"""
