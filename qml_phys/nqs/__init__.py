"""Neural quantum states through NetKet: the only subpackage that imports ``netket``.

* :mod:`.ground_state` -- variational ground states (RBM, translation-symmetric RBM,
  autoregressive networks, any Flax log-psi module) of the package's models with SR or
  MinSR, exact references, checkpoint/resume through a caller's
  :class:`~qml_phys.runtime.checkpoint.Checkpoint`, NaN and frozen-chain stops, a
  convergence check and multi-device sharding;
* :mod:`.bridge` -- warm-start an NQS from a generative model trained on measurement data;
* :mod:`.tomography` -- reconstruct a state from measurement samples in several bases;
* :mod:`.gradient_variance` -- exact gradient variances of random RBMs (trainability).

Every algorithm takes a keyword-only JAX PRNG ``key``, returns a frozen
:class:`~qml_phys.runtime.results.Result`, runs its JAX/NetKet work under
:func:`qml_phys.runtime.precision.float64`, and writes no files: the ``qml-phys nqs``
commands (:mod:`qml_phys.cli.nqs`) and the tour section (:mod:`qml_phys.tour.nqs`) save.

Submodules are imported on demand (``from qml_phys.nqs import ground_state``); importing
this package does not import NetKet.
"""
