"""Quantum circuits through PennyLane (the only subpackage that imports it).

* :mod:`~qml_phys.circuits.devices` -- devices by name with explicit shots, seeds, noise.
* :mod:`~qml_phys.circuits.ansatz` -- hardware-efficient, HVA (TFIM, Heisenberg), QAOA layers.
* :mod:`~qml_phys.circuits.vqe` -- VQE for the spin models and H2, checked against exact
  ground energies.
* :mod:`~qml_phys.circuits.qaoa` -- QAOA for MaxCut.

Submodules are imported explicitly (``from qml_phys.circuits.vqe import run_vqe``) so that
importing the package stays cheap.
"""
