r"""Exact references: the answers every engine of the package is tested against.

Classical 2D Ising model (zero field unless stated), with ``k_B = 1``::

    E(s) = -J sum_<ij> s_i s_j - h sum_i s_i,        s_i in {-1, +1},

bonds as in :attr:`Lattice.edges` (the ``L x L`` torus has ``2 L^2`` bonds; for ``L = 2``
the doubled bonds count twice, exactly as in Kaufman's torus). ``K = J / T``.

* :func:`onsager_tc`, :func:`yang_magnetization`, :func:`onsager`: the infinite lattice
  (L. Onsager, Phys. Rev. 65, 117 (1944), doi:10.1103/PhysRev.65.117; C. N. Yang,
  Phys. Rev. 85, 808 (1952), doi:10.1103/PhysRev.85.808).
* :func:`kaufman`: the finite ``L x L`` torus (B. Kaufman, Phys. Rev. 76, 1232 (1949),
  doi:10.1103/PhysRev.76.1232, in the form of A. E. Ferdinand and M. E. Fisher,
  Phys. Rev. 185, 832 (1969), doi:10.1103/PhysRev.185.832), evaluated in logs with
  analytic derivatives, stable for any ``L``.
* :func:`transfer_matrix_ising`: the same torus by row-to-row transfer matrices (``L <= 10``),
  an independent check of :func:`kaufman`.
* :func:`ising_density_of_states`, :func:`enumerate_ising`: exact enumeration of every
  configuration of a small lattice (chain or square, periodic or open; ``N <= 25``).

Quantum and combinatorial references:

* :func:`tfim_chain_ground_energy`, :func:`tfim_chain_energy_per_site_infinite`: the
  periodic transverse-field Ising chain ``H = -J sum_i Z_i Z_{i+1} - Gamma sum_i X_i`` from
  its free-fermion (Jordan-Wigner) solution (P. Pfeuty, Ann. Phys. 57, 79 (1970),
  doi:10.1016/0003-4916(70)90270-8), parity sectors included.
* :func:`lanczos`: lowest eigenvalues of a sparse Hermitian operator (exact diagonalisation).
* :func:`maxcut_brute_force`: the maximum cut of a weighted graph (``<= 26`` nodes).
* :func:`reference`: the one decision, for every engine, of which of these (or of the
  published values in :data:`PUBLISHED`) is a model's reference.

One module per concept: :mod:`.ising2d` (Onsager, Yang, Kaufman, transfer matrices),
:mod:`.enumeration`, :mod:`.tfim`, :mod:`.diagonalisation`, :mod:`.maxcut` and
:mod:`.reference`; every name is also importable from ``qml_phys.physics.exact``.

Configuration index convention (enumeration, MaxCut, exact diagonalisation): spin
``s = +1`` is bit 0 (qubit ``|0>``, ``Z = +1``), ``s = -1`` is bit 1, and site 0 is the most
significant bit of the configuration index.

Temperatures may be scalars or arrays (results broadcast to ``T``'s shape); every ``T``
must be finite and ``> 0``.
"""

from qml_phys.physics.exact.diagonalisation import lanczos
from qml_phys.physics.exact.enumeration import (
    MAX_ENUMERATION_SITES,
    IsingDensityOfStates,
    IsingEnumeration,
    enumerate_ising,
    ising_density_of_states,
)
from qml_phys.physics.exact.ising2d import (
    MAX_TRANSFER_MATRIX_L,
    IsingThermo,
    kaufman,
    onsager,
    onsager_tc,
    transfer_matrix_ising,
    yang_magnetization,
)
from qml_phys.physics.exact.maxcut import MAX_MAXCUT_NODES, maxcut_brute_force
from qml_phys.physics.exact.reference import MAX_ED_SITES, PUBLISHED, Reference, reference
from qml_phys.physics.exact.tfim import (
    tfim_chain_energy_per_site_infinite,
    tfim_chain_ground_energy,
)
from qml_phys.physics.exact.tfim_dynamics import TFIMQuench, tfim_quench

__all__ = [
    "IsingDensityOfStates",
    "IsingEnumeration",
    "IsingThermo",
    "MAX_ED_SITES",
    "MAX_ENUMERATION_SITES",
    "MAX_MAXCUT_NODES",
    "MAX_TRANSFER_MATRIX_L",
    "PUBLISHED",
    "Reference",
    "TFIMQuench",
    "enumerate_ising",
    "ising_density_of_states",
    "kaufman",
    "lanczos",
    "maxcut_brute_force",
    "onsager",
    "onsager_tc",
    "reference",
    "tfim_chain_energy_per_site_infinite",
    "tfim_chain_ground_energy",
    "tfim_quench",
    "transfer_matrix_ising",
    "yang_magnetization",
]
