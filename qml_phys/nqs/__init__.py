"""Neural quantum states through NetKet: the only subpackage that imports ``netket``.

* :mod:`.ground_state` -- variational ground states (RBM, translation-symmetric RBM,
  autoregressive networks, any Flax log-psi module) of the package's models with SR or
  MinSR, exact comparisons, checkpoint/resume, NaN stops and multi-device sharding;
* :mod:`.bridge` -- warm-start an NQS from a generative model trained on measurement data;
* :mod:`.tomography` -- reconstruct a state from measurement samples in several bases;
* :mod:`.commands`, :mod:`.tour` -- the ``qml-phys nqs`` subcommands and tour section.

Submodules are imported on demand (``from qml_phys.nqs import ground_state``); importing
this package does not import NetKet.
"""
