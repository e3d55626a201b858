r"""The periodic transverse-field Ising chain ``H = -J sum_i Z_i Z_{i+1} - Gamma sum_i X_i``
from its free-fermion (Jordan-Wigner) solution, parity sectors included (P. Pfeuty, Ann.
Phys. 57, 79 (1970), doi:10.1016/0003-4916(70)90270-8)."""

from __future__ import annotations

import math

import numpy as np
import scipy.integrate

from qml_phys.errors import check_positive_int
from qml_phys.physics.exact._common import finite


# --------------------------------------------------------------------------- TFIM chain
def _tfim_mode_energies(k: np.ndarray, J: float, g: float) -> np.ndarray:
    r"""``eps_k = 2 sqrt(J^2 + Gamma^2 - 2 J Gamma cos k)`` as a sum of non-negative terms."""
    if J * g >= 0:
        inner = (J - g) ** 2 + 4.0 * J * g * np.sin(0.5 * k) ** 2
    else:
        inner = (J + g) ** 2 - 4.0 * J * g * np.cos(0.5 * k) ** 2
    return 2.0 * np.sqrt(inner)


def tfim_chain_ground_energy(N: int, J: float = 1.0, gamma: float = 1.0) -> float:
    r"""Exact ground energy of the periodic transverse-field Ising chain.

    ``H = -J sum_{i=0}^{N-1} Z_i Z_{i+1} - Gamma sum_i X_i`` with ``Z_N = Z_0``: the chain
    has ``N`` bonds. For ``N = 2`` the two bonds join the same pair,
    ``H = -2J Z_0 Z_1 - Gamma (X_0 + X_1)`` (ground energy ``-2 sqrt(J^2 + Gamma^2)``), exactly
    as ``Lattice.chain(2).edges``; the formula below covers it without a special case.

    Jordan-Wigner fermions with ``X_i = 1 - 2 n_i`` conserve the parity ``P = prod_i X_i``.
    In the sector ``P = +1`` (even fermion number) the fermions are antiperiodic,
    ``k = pi (2m+1) / N``; in ``P = -1`` (odd) periodic, ``k = 2 pi m / N``. Paired modes
    ``(k, -k)`` give Bogoliubov quasiparticles of energy
    ``eps_k = 2 sqrt(J^2 + Gamma^2 - 2 J Gamma cos k)``; the unpaired modes ``k = 0`` and
    ``k = pi`` (when in the set) are plain fermions of energy ``a_0 = 2(Gamma - J)``,
    ``a_pi = 2(Gamma + J)``, occupied in the quasiparticle vacuum when negative. Since
    ``sum_k cos k = 0`` for ``N >= 2``, the vacuum energy of a sector is ``-1/2 sum_k eps_k``;
    if the vacuum has the wrong fermion parity for its sector the lowest state of the sector
    adds the cheapest quasiparticle, ``min_k eps_k``. The ground energy is the lower of
    the two sectors. Valid for any ``N >= 2`` and any signs of ``J`` and ``Gamma``
    (P. Pfeuty, Ann. Phys. 57, 79 (1970); the parity bookkeeping as in
    F. Franchini, *An Introduction to Integrable Techniques for One-Dimensional Quantum
    Systems*, Springer (2017), ch. 4, arXiv:1609.02100).
    """
    N = check_positive_int("N", N, minimum=2)
    J = finite("J", J)
    g = finite("gamma", gamma)
    from qml_phys.runtime.resources import check_memory

    check_memory(  # the momenta and the mode energies of one sector, in float64
        f"the free-fermion ground energy of the N={N} chain (for the infinite chain use "
        "tfim_chain_energy_per_site_infinite)",
        32.0 * N,
    )
    energies = []
    for parity, ks in (
        (0, math.pi * (2 * np.arange(N) + 1) / N),  # P = +1: even, antiperiodic
        (1, 2 * math.pi * np.arange(N) / N),  # P = -1: odd, periodic
    ):
        eps = _tfim_mode_energies(ks, J, g)
        vacuum_parity = 0
        if parity == 1:  # k = 0 is always in the periodic set
            vacuum_parity += int(2.0 * (g - J) < 0)
        if (parity == 0 and N % 2 == 1) or (parity == 1 and N % 2 == 0):  # k = pi present
            vacuum_parity += int(2.0 * (g + J) < 0)
        e = -0.5 * float(np.sum(eps))
        if vacuum_parity % 2 != parity:
            e += float(eps.min())
        energies.append(e)
    return min(energies)


def tfim_chain_energy_per_site_infinite(J: float = 1.0, gamma: float = 1.0) -> float:
    r"""Ground energy per site of the infinite chain ``H = -J sum Z_i Z_{i+1} - Gamma sum X_i``.

    ``e = -(1/pi) int_0^pi sqrt(J^2 + Gamma^2 - 2 J Gamma cos k) dk
        = -(2/pi) (|J| + |Gamma|) E(m)``, ``m = 4 |J Gamma| / (|J| + |Gamma|)^2``
    (complete elliptic integral of the second kind, scipy's parameter ``m``); ``-4/pi`` at
    the critical point ``|J| = |Gamma| = 1``.
    """
    J = abs(finite("J", J))
    g = abs(finite("gamma", gamma))
    s = J + g
    if s == 0.0:
        return 0.0
    m = 4.0 * J * g / (s * s)
    return float(-2.0 / math.pi * s * scipy.special.ellipe(min(m, 1.0)))
