"""Quantum circuits through PennyLane (the only subpackage that imports it).

* :mod:`~qml_phys.circuits.devices` -- devices by name with explicit shots and noise; a
  sampling seed drawn from a key.
* :mod:`~qml_phys.circuits.ansatz` -- hardware-efficient, HVA (TFIM, Heisenberg), QAOA layers.
* :mod:`~qml_phys.circuits.optimize` -- the one optimisation path (optax on PennyLane's JAX
  interface, float64) shared by VQE and QAOA.
* :mod:`~qml_phys.circuits.vqe` -- VQE for the spin models and H2, checked against the
  references of :func:`qml_phys.physics.exact.reference`.
* :mod:`~qml_phys.circuits.qaoa` -- QAOA for MaxCut, against brute force and annealing.
* :mod:`~qml_phys.circuits.mitigation` -- zero-noise extrapolation (global folding,
  Richardson) and readout inversion of energies on noisy devices, with shot errors and one
  shot budget for raw and mitigated estimates.
* :mod:`~qml_phys.circuits.barren` -- gradient variance of random circuits (barren
  plateaus), a vectorised JAX engine.
* :mod:`~qml_phys.circuits.measure` -- shot samples in Pauli bases for tomography.

Submodules are imported explicitly (``from qml_phys.circuits.vqe import run_vqe``) so that
importing the package stays cheap.
"""
