"""One model specification, compiled to every engine (see :mod:`.models`), and the exact
references every engine is tested against (:mod:`.exact`)."""

from qml_phys.physics.lattice import Graph, Lattice

__all__ = ["Graph", "Lattice"]
