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
* :mod:`~qml_phys.generative.vae`, :mod:`~qml_phys.generative.gan`,
  :mod:`~qml_phys.generative.diffusion` - a variational autoencoder, a GAN and a
  spin-flip diffusion model of Ising configurations;
* :mod:`~qml_phys.generative.flows` - RealNVP flows for lattice phi^4 as exact MCMC
  proposals, against HMC;
* :mod:`~qml_phys.generative.models` - the spin models by name, and the whole runs behind
  ``qml-phys generative train`` (:func:`~qml_phys.generative.models.train_and_compare`,
  :func:`~qml_phys.generative.models.fit_and_compare`);
* :mod:`~qml_phys.generative.adapter` - any model as a NetKet-compatible Flax module with
  ``log psi(s) = log p(s) / 2`` (warm starts for neural quantum states).

Conventions: every random function takes a PRNG ``key`` (no seeds); every training entry
point takes a frozen config and an optional
:class:`~qml_phys.runtime.checkpoint.Checkpoint` (it never chooses paths), and returns a
:class:`~qml_phys.runtime.results.Result`. Nothing here imports NetKet or PennyLane.
"""
