r"""One decision, for every engine, of the exact (or published) reference of a model.

:func:`reference` is what VQE, VMC, QAOA, simulated annealing and the classical Monte
Carlo compare with. The rules, in order:

Ground states (``T=None``):

1. the periodic transverse-field Ising chain without longitudinal field: free fermions,
   any ``N`` (:func:`~qml_phys.physics.exact.tfim.tfim_chain_ground_energy`);
2. the periodic ``L x L`` Heisenberg antiferromagnet (``J2 = 0``) for an ``L`` in
   :data:`PUBLISHED`: the published quantum Monte Carlo energy, with its error;
3. a classical model (no transverse field): the minimum of the diagonal by brute force
   up to :data:`~qml_phys.physics.exact.maxcut.MAX_MAXCUT_NODES` sites (for
   :class:`~qml_phys.physics.models.MaxCut` also the max cut itself);
4. any model up to :data:`MAX_ED_SITES` sites: exact diagonalisation (Lanczos);
5. otherwise ``None``: no reference is known, and the caller says so.

At a temperature ``T`` (classical Ising model on a lattice, zero field):

1. the periodic ``L x L`` square lattice: Kaufman's exact torus (any ``L``);
2. a lattice of at most :data:`~qml_phys.physics.exact.enumeration.MAX_ENUMERATION_SITES`
   sites: exact enumeration;
3. otherwise ``None``.

Energies are in the units of the model (Pauli matrices: the Heisenberg energy is four times
its spin-1/2 ``S.S`` value; :data:`PUBLISHED` stores spin-1/2 values and converts).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["MAX_ED_SITES", "PUBLISHED", "Reference", "reference"]

#: Largest number of sites whose ground energy is found by exact diagonalisation.
MAX_ED_SITES = 20

#: Published energies per site (spin-1/2 units, ``S.S``) beyond exact diagonalisation:
#: ``(model, L, J2) -> (e_per_site, error, citation)``.
PUBLISHED = {
    ("heisenberg-square", 6, 0.0): (
        -0.678873,
        0.000004,
        "QMC, A. W. Sandvik, PRB 56, 11678 (1997), doi:10.1103/PhysRevB.56.11678",
    ),
}


@dataclasses.dataclass(frozen=True)
class Reference:
    """A reference value of a model, how it was obtained, and its error.

    Attributes:
        values: name -> value. Ground states: ``"energy"`` (total, the model's units), and
            for MaxCut ``"max_cut"``. At a temperature: ``"energy_per_site"``,
            ``"specific_heat_per_site"``, ``"ln_z_per_site"``, ``"free_energy_per_site"``.
        method: how (``"free fermions (Jordan-Wigner)"``, ``"exact diagonalisation
            (Lanczos)"``, ``"brute force"``, ``"kaufman"``, ``"enumeration"``, or the
            citation of a published value).
        errors: name -> one-standard-deviation error, for published values only; an exact
            value has no entry.
    """

    values: dict[str, float]
    method: str
    errors: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def exact(self) -> bool:
        """True for an exact value (no error bar)."""
        return not self.errors

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def error(self, name: str) -> float:
        """The error of ``name``: 0 for an exact value."""
        return self.errors.get(name, 0.0)


def _ground(model) -> Reference | None:
    from qml_phys.physics.exact.diagonalisation import lanczos
    from qml_phys.physics.exact.maxcut import MAX_MAXCUT_NODES, maxcut_brute_force
    from qml_phys.physics.exact.tfim import tfim_chain_ground_energy
    from qml_phys.physics.models import Heisenberg, MaxCut, TransverseFieldIsing

    lat = getattr(model, "lattice", None)
    if (
        isinstance(model, TransverseFieldIsing)
        and lat.kind == "chain"
        and lat.pbc
        and model.h == 0.0
    ):
        e = tfim_chain_ground_energy(lat.L, J=model.J, gamma=model.gamma)
        return Reference({"energy": float(e)}, "free fermions (Jordan-Wigner)")
    if isinstance(model, Heisenberg) and lat.kind == "square" and lat.pbc and model.J1 > 0:
        key = ("heisenberg-square", lat.L, float(model.J2) / float(model.J1))
        if key in PUBLISHED:
            e, err, citation = PUBLISHED[key]
            scale = 4.0 * model.J1 * lat.n_sites  # spin-1/2 per site -> Pauli units, total
            return Reference({"energy": e * scale}, citation, {"energy": err * scale})
    if isinstance(model, MaxCut) and model.n_sites <= MAX_MAXCUT_NODES:
        value, _ = maxcut_brute_force(model.graph)
        return Reference({"energy": -float(value), "max_cut": float(value)}, "brute force")
    if _is_classical(model) and model.n_sites <= MAX_MAXCUT_NODES:
        return Reference({"energy": _min_diagonal(model)}, "brute force")
    if model.n_sites <= MAX_ED_SITES:
        return Reference({"energy": float(lanczos(model)[0])}, "exact diagonalisation (Lanczos)")
    return None


def _is_classical(model) -> bool:
    return float(getattr(model, "gamma", 0.0)) == 0.0 and not hasattr(model, "J1")


def _min_diagonal(model) -> float:
    """The lowest classical energy by enumeration, in blocks of ``2^16`` configurations."""
    n = model.n_sites
    best = math.inf
    block = 1 << min(n, 16)
    for start in range(0, 1 << n, block):
        idx = np.arange(start, start + block, dtype=np.int64)
        bits = (idx[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)) & 1
        best = min(best, float(np.min(np.asarray(model.diagonal(1.0 - 2.0 * bits)))))
    return best


def _thermal(model, T) -> Reference | None:
    from qml_phys.physics.exact.enumeration import MAX_ENUMERATION_SITES, enumerate_ising
    from qml_phys.physics.exact.ising2d import kaufman
    from qml_phys.physics.models import IsingModel

    if not isinstance(model, IsingModel) or model.h != 0.0 or model.J <= 0:
        return None
    lat = model.lattice
    if lat.kind == "square" and lat.pbc:
        th = kaufman(lat.L, T, J=model.J)
        method = "kaufman"
    elif lat.n_sites <= MAX_ENUMERATION_SITES:
        th = enumerate_ising(lat, T, J=model.J)
        method = "enumeration"
    else:
        return None
    names = ("energy_per_site", "specific_heat_per_site", "ln_z_per_site", "free_energy_per_site")
    return Reference({k: float(getattr(th, k)) for k in names if hasattr(th, k)}, method)


def reference(model, *, T: float | None = None) -> Reference | None:
    """The exact or published reference of ``model`` (see the module docstring).

    Args:
        model: a model of :mod:`qml_phys.physics.models`.
        T: a temperature for the classical thermodynamics; ``None`` for the ground state.

    Returns:
        A :class:`Reference`, or ``None`` when no exact or published value is known.
    """
    if T is None:
        return _ground(model)
    from qml_phys.errors import check_temperature

    return _thermal(model, check_temperature(T))
