"""One model specification, compiled to every engine (see :mod:`.models`), and the exact
references every engine is tested against (:mod:`.exact`)."""

from qml_phys.physics.lattice import Graph, Lattice
from qml_phys.physics.models import (
    GraphIsing,
    Heisenberg,
    IsingModel,
    MaxCut,
    TransverseFieldIsing,
    basis_states,
)

__all__ = [
    "Graph",
    "GraphIsing",
    "Heisenberg",
    "IsingModel",
    "Lattice",
    "MaxCut",
    "TransverseFieldIsing",
    "basis_states",
]
