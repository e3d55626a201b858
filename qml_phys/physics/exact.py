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

Configuration index convention (enumeration, MaxCut, exact diagonalisation): spin
``s = +1`` is bit 0 (qubit ``|0>``, ``Z = +1``), ``s = -1`` is bit 1, and site 0 is the most
significant bit of the configuration index.

Temperatures may be scalars or arrays (results broadcast to ``T``'s shape); every ``T``
must be finite and ``> 0``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import scipy.integrate
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
import scipy.special

from qml_phys.errors import (
    InvalidParameterError,
    TooLargeError,
    check_positive_int,
    check_temperature,
)
from qml_phys.physics.lattice import Graph, Lattice

__all__ = [
    "IsingThermo",
    "IsingDensityOfStates",
    "IsingEnumeration",
    "MAX_ENUMERATION_SITES",
    "MAX_MAXCUT_NODES",
    "MAX_TRANSFER_MATRIX_L",
    "onsager_tc",
    "yang_magnetization",
    "onsager",
    "kaufman",
    "transfer_matrix_ising",
    "ising_density_of_states",
    "enumerate_ising",
    "tfim_chain_ground_energy",
    "tfim_chain_energy_per_site_infinite",
    "lanczos",
    "maxcut_brute_force",
]

MAX_ENUMERATION_SITES = 25
"""Largest number of sites :func:`ising_density_of_states` enumerates (2^25 configurations)."""

MAX_MAXCUT_NODES = 26
"""Largest graph :func:`maxcut_brute_force` solves (2^25 assignments after the global flip)."""

MAX_TRANSFER_MATRIX_L = 10
"""Largest ``L`` of :func:`transfer_matrix_ising` (a ``2^L x 2^L`` dense eigenproblem)."""

_DENSE_EIGH_MAX_DIM = 64
_CHUNK_ELEMENTS = 1 << 20  # configurations handled per vectorised block


class IsingThermo(NamedTuple):
    """Thermodynamics of the zero-field Ising model per site (``k_B = 1``).

    Every field has the shape of the temperature given (a float64 scalar for a scalar ``T``).

    Attributes:
        ln_z_per_site: ``ln Z / N``.
        free_energy_per_site: ``f = -T ln Z / N``.
        energy_per_site: ``u = <E> / N = -d(ln Z / N)/d beta``.
        specific_heat_per_site: ``c = beta^2 var(E) / N = du/dT``.
        magnetization: spontaneous magnetization per site (Yang) for the infinite lattice;
            ``nan`` for a finite torus, where it vanishes by symmetry at ``h = 0``.
    """

    ln_z_per_site: np.ndarray
    free_energy_per_site: np.ndarray
    energy_per_site: np.ndarray
    specific_heat_per_site: np.ndarray
    magnetization: np.ndarray


class IsingDensityOfStates(NamedTuple):
    """Joint histogram of bond sum and magnetization over all ``2^N`` configurations.

    The energy of a configuration is ``E = -J * bond_sum - h * magnetization``.

    Attributes:
        bond_sums: ``(n_B,)`` int64, ``B = sum_<ij> s_i s_j`` of every row, decreasing (only
            values that occur).
        magnetizations: ``(N + 1,)`` int64, total magnetization ``M = sum_i s_i``, increasing
            from ``-N`` to ``N`` in steps of 2.
        counts: ``(n_B, N + 1)`` int64, number of configurations with ``(B, M)``.
        energies: ``(n_B,)`` float64, ``-J * bond_sums`` (increasing when ``J > 0``).
        n_sites: ``N``.
        J: the coupling used for ``energies``.
    """

    bond_sums: np.ndarray
    magnetizations: np.ndarray
    counts: np.ndarray
    energies: np.ndarray
    n_sites: int
    J: float


class IsingEnumeration(NamedTuple):
    r"""Exact canonical averages at temperature ``T`` from complete enumeration.

    With ``m = M / N`` the magnetization per site and ``<.>`` the Boltzmann average; scalar
    fields have the shape of ``T``.

    Attributes:
        ln_z_per_site: ``ln Z / N``.
        energy_per_site: ``<E> / N``.
        specific_heat_per_site: ``beta^2 (<E^2> - <E>^2) / N``.
        m: ``<m>`` (zero by symmetry when ``h = 0``).
        abs_m: ``<|m|>``.
        m2: ``<m^2>``.
        m4: ``<m^4>``.
        binder: ``U = 1 - <m^4> / (3 <m^2>^2)``.
        susceptibility_per_site: ``chi = beta N (<m^2> - <|m|>^2)``, the finite-lattice
            estimator built from ``|m|`` that Monte Carlo codes report (it does not vanish
            exactly below ``T_c`` and is not the full fluctuation ``beta N <m^2>``).
        energies: ``(n_levels,)`` float64, the distinct energies, increasing.
        probabilities: ``T.shape + (n_levels,)``, Boltzmann probability of each energy level.
    """

    ln_z_per_site: np.ndarray
    energy_per_site: np.ndarray
    specific_heat_per_site: np.ndarray
    m: np.ndarray
    abs_m: np.ndarray
    m2: np.ndarray
    m4: np.ndarray
    binder: np.ndarray
    susceptibility_per_site: np.ndarray
    energies: np.ndarray
    probabilities: np.ndarray


# --------------------------------------------------------------------------- validation
def _temperatures(T) -> np.ndarray:
    """``T`` as a float64 array; raise (with ``check_temperature``'s message) unless all > 0."""
    try:
        arr = np.asarray(T, dtype=np.float64)
    except (TypeError, ValueError):
        check_temperature(T)  # raises with the standard message
        raise  # pragma: no cover  (check_temperature accepted something numpy rejected)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        first = arr.reshape(-1)[int(np.argmax(bad.reshape(-1)))]
        check_temperature(first.item())
        raise InvalidParameterError(  # pragma: no cover  (unreachable: check raises)
            f"T must be a positive, finite temperature; got {first!r}"
        )
    return arr


def _finite(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"expected {name} to be a finite number; got {value!r}"
        ) from None
    if not math.isfinite(x):
        raise InvalidParameterError(f"expected {name} to be a finite number; got {value!r}")
    return x


def _ferromagnetic_J(J) -> float:
    j = _finite("J", J)
    if j <= 0:
        raise InvalidParameterError(
            f"expected a ferromagnetic coupling J > 0 (Onsager/Kaufman/Yang); got J = {J!r}"
        )
    return j


def _shape_out(x: np.ndarray, shape: tuple) -> np.ndarray:
    """Reshape a flat result to ``shape``; a 0-d result becomes a float64 scalar."""
    x = np.asarray(x, dtype=np.float64).reshape(shape)
    return x[()] if x.ndim == 0 else x


# --------------------------------------------------------------------------- Onsager, Yang
def onsager_tc(J: float = 1.0) -> float:
    r"""Onsager's critical temperature of the square lattice, ``T_c = 2 J / ln(1 + sqrt 2)``.

    ``T_c ~= 2.269185314213022 J``. Requires ``J > 0``.
    """
    J = _ferromagnetic_J(J)
    return 2.0 * J / math.log1p(math.sqrt(2.0))


def yang_magnetization(T, J: float = 1.0):
    r"""Yang's spontaneous magnetization per site of the infinite square lattice.

    ``m(T) = (1 - sinh(2 J / T)^{-4})^{1/8}`` for ``T < T_c`` and 0 for ``T >= T_c``
    (C. N. Yang, Phys. Rev. 85, 808 (1952)). Vectorised over ``T``.
    """
    J = _ferromagnetic_J(J)
    t = _temperatures(T)
    K = J / t
    s = np.sinh(2.0 * K)
    with np.errstate(divide="ignore", over="ignore"):
        inner = np.clip(-np.expm1(-4.0 * np.log(s)), 0.0, 1.0)
    m = np.where(t < onsager_tc(J), inner**0.125, 0.0)
    return _shape_out(m, t.shape)


def _onsager_integral(kpp: float) -> float:
    r"""``(1/pi) int_0^{pi/2} ln[(1 + sqrt(1 - kappa^2 sin^2 phi)) / 2] dphi`` with
    ``1 - kappa^2 sin^2 phi = cos^2 phi + kappa''^2 sin^2 phi`` (no cancellation)."""
    k2 = kpp * kpp

    def f(phi):
        c, s = math.cos(phi), math.sin(phi)
        return math.log1p(math.sqrt(c * c + k2 * s * s)) - math.log(2.0)

    with warnings.catch_warnings():  # roundoff notices at the 1e-15 level are harmless here
        warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
        val, _ = scipy.integrate.quad(f, 0.0, 0.5 * math.pi, epsabs=1e-15, epsrel=1e-13, limit=400)
    return val / math.pi


def onsager(T, J: float = 1.0) -> IsingThermo:
    r"""Onsager's exact thermodynamics of the infinite square-lattice Ising model, per site.

    With ``K = J/T``, the modulus ``kappa = 2 sinh 2K / cosh^2 2K`` and its complement
    ``kappa'' = 2 tanh^2 2K - 1`` (``kappa^2 + kappa''^2 = 1``; ``kappa'' = 0`` at ``T_c``),
    and the complete elliptic integrals ``K_1 = K(kappa)``, ``E_1 = E(kappa)``
    (scipy's parameter is ``m = kappa^2``)::

        ln Z / N = ln(2 cosh 2K) + (1/pi) int_0^{pi/2} ln[(1 + sqrt(1 - kappa^2 sin^2 phi))/2] dphi
        u        = -J coth 2K [1 + (2/pi) kappa'' K_1]
        c        = (4/pi) (K coth 2K)^2 {K_1 - E_1 - (1 - tanh^2 2K) [pi/2 + kappa'' K_1]}
        m        = Yang's spontaneous magnetization

    (K. Huang, *Statistical Mechanics*, 2nd ed., sec. 15.3; ``c = du/dT`` differentiated
    here with ``dK_1/dkappa = E_1 / (kappa kappa'^2) - K_1 / kappa``). The integral for ``ln Z`` is
    done by adaptive quadrature to ~1e-15; ``u``, ``c`` and ``m`` are closed forms (``u``
    and ``ln Z`` to ~1e-15 relative; ``c`` to ~1e-14 relative for ``T >= 0.8 J``, and to
    ~1e-16 absolute below, where it is exponentially small).
    ``K_1`` is evaluated as ``ellipkm1(kappa''^2)`` so that it stays accurate near ``T_c``.
    At ``T`` equal to the float :func:`onsager_tc` the lattice is taken as exactly critical:
    ``u = -sqrt(2) J``, ``c = inf``, ``m = 0``. Requires ``J > 0``.

    Returns:
        :class:`IsingThermo` with fields shaped like ``T``.
    """
    J = _ferromagnetic_J(J)
    t = _temperatures(T)
    shape = t.shape
    t = t.reshape(-1)
    K = J / t
    t2 = np.tanh(2.0 * K)
    kpp = 2.0 * t2 * t2 - 1.0
    kpp = np.where(t == onsager_tc(J), 0.0, kpp)
    coth = 1.0 / t2
    with np.errstate(divide="ignore", invalid="ignore"):
        K1 = scipy.special.ellipkm1(kpp * kpp)
        E1 = scipy.special.ellipe(1.0 - kpp * kpp)
        kK1 = np.where(kpp == 0.0, 0.0, kpp * K1)
        u = -J * coth * (1.0 + (2.0 / math.pi) * kK1)
        c = (4.0 / math.pi) * (K * coth) ** 2 * (K1 - E1 - (1.0 - t2 * t2) * (0.5 * math.pi + kK1))
    c = np.where(kpp == 0.0, np.inf, c)
    ln2cosh = 2.0 * K + np.log1p(np.exp(-4.0 * K))
    lnz = ln2cosh + np.array([_onsager_integral(float(x)) for x in kpp])
    m = yang_magnetization(t, J)
    return IsingThermo(
        _shape_out(lnz, shape),
        _shape_out(-t * lnz, shape),
        _shape_out(u, shape),
        _shape_out(c, shape),
        _shape_out(m, shape),
    )


# --------------------------------------------------------------------------- Kaufman
def _ln2cosh(u):
    a = np.abs(u)
    return a + np.log1p(np.exp(-2.0 * a))


def _kaufman_block(L: int, K: np.ndarray):
    r"""``ln Z``, ``d ln Z / dK`` and ``d^2 ln Z / dK^2`` of the ``L x L`` torus for a 1-D
    array of couplings ``K > 0`` (see :func:`kaufman` for the formulas)."""
    K = K[:, None]  # (nK, 1)
    # Dual coupling, tanh K* = exp(-2K), accurate for small and large K.
    em2 = np.exp(-2.0 * K)
    Kd = 0.5 * (np.log1p(em2) - np.log(-np.expm1(-2.0 * K)))
    s2K = np.sinh(2.0 * K)
    g0 = 2.0 * (K - Kd)  # gamma_0, signed: > 0 below T_c, < 0 above
    g0p = 2.0 * (1.0 + 1.0 / s2K)  # d gamma_0 / dK   (dK*/dK = -sinh 2K* = -1/sinh 2K)
    g0pp = -4.0 / (np.tanh(2.0 * K) * s2K)  # d^2 gamma_0 / dK^2 = -4 cosh 2K / sinh^2 2K
    a = 2.0 * np.sinh(0.5 * g0) ** 2  # cosh gamma_0 - 1
    sh0 = np.sinh(g0)

    l = np.arange(2 * L)[None, :]  # (1, 2L)
    d = 2.0 * np.sin(0.5 * math.pi * l / L) ** 2  # 1 - cos(pi l / L)
    b = a + d  # cosh gamma_l - 1 >= 0
    sqb = np.sqrt(b)
    shl = sqb * np.sqrt(b + 2.0)  # sinh |gamma_l|
    gam = np.log1p(b + shl)  # |gamma_l|
    with np.errstate(divide="ignore", invalid="ignore"):
        gp = sh0 * g0p / shl
        ratio = (1.0 + a) / b - (a / b) / (b + 2.0)  # (a + b + 2 + ab) / (b (b + 2))
        gpp = (g0p**2 * d * ratio + sh0 * g0pp) / shl
    # l = 0 carries the sign of gamma_0 (Kaufman; Ferdinand & Fisher eq. 2.5).
    gam = np.where(l == 0, g0, gam)
    gp = np.where(l == 0, g0p, gp)
    gpp = np.where(l == 0, g0pp, gpp)

    half = 0.5 * L
    u, up, upp = half * gam, half * gp, half * gpp  # arguments of cosh / sinh
    tu = np.tanh(u)
    e = np.exp(-2.0 * np.abs(u))
    ln_c = _ln2cosh(u)  # ln 2 cosh u
    dln_c = tu  # d/du ln 2cosh u
    d2ln_c = 4.0 * e / (1.0 + e) ** 2  # sech^2 u
    with np.errstate(divide="ignore", invalid="ignore"):
        ln_s = np.abs(u) + np.log(-np.expm1(-2.0 * np.abs(u)))  # ln 2 sinh |u|
        dln_s = 1.0 / tu
        d2ln_s = -4.0 * e / np.expm1(-2.0 * np.abs(u)) ** 2  # -csch^2 u

    odd = slice(1, None, 2)
    even = slice(0, None, 2)
    # Each Z_i = prod_r F(u_r), F = 2cosh or 2sinh. With the weights p_i = Z_i / sum_j Z_j,
    # A_i = d ln Z_i / dK and B_i = d^2 ln Z_i / dK^2:
    #   d ln(sum Z) / dK     = Abar = sum_i p_i A_i
    #   d^2 ln(sum Z) / dK^2 = sum_i p_i [(A_i - Abar)^2 + B_i]      (centred: no cancellation)
    # Z_4's first factor 2 sinh(L gamma_0 / 2) vanishes at T_c (and A_4, B_4 diverge), so for
    # sinh-type terms with |u_0| < 1 the first factor F is split off, R = Z_i / F > 0, and
    #   Z_i' / sum Z  = q + p A_R,     Z_i'' / sum Z - ... = s + 2 q D + p (D^2 + B_R),
    # with p = F R / sum Z, q = F' R / sum Z, s = F'' R / sum Z and D = A_R - Abar.
    terms = []
    for sl, is_sinh in ((odd, False), (odd, True), (even, False), (even, True)):
        lf, dlf, d2lf = (ln_s, dln_s, d2ln_s) if is_sinh else (ln_c, dln_c, d2ln_c)
        lf, dlf, d2lf = lf[:, sl], dlf[:, sl], d2lf[:, sl]
        ur, upr, uppr = u[:, sl], up[:, sl], upp[:, sl]
        lnR = lf[:, 1:].sum(axis=1)
        AR = (dlf[:, 1:] * upr[:, 1:]).sum(axis=1)
        BR = (d2lf[:, 1:] * upr[:, 1:] ** 2 + dlf[:, 1:] * uppr[:, 1:]).sum(axis=1)
        u0, u0p, u0pp = ur[:, 0], upr[:, 0], uppr[:, 0]
        with np.errstate(divide="ignore", invalid="ignore"):
            A_full = AR + dlf[:, 0] * u0p
            B_full = BR + d2lf[:, 0] * u0p**2 + dlf[:, 0] * u0pp
        split = is_sinh & (np.abs(u0) < 1.0)
        terms.append((lnR, AR, BR, A_full, B_full, u0, u0p, u0pp, is_sinh, split))

    # F = 2cosh(u0) * t with t = 1 (cosh) or tanh u0 (sinh): a signed log-sum-exp.
    lg = np.stack([tm[0] + _ln2cosh(tm[5]) for tm in terms])  # (4, nK)
    tt = np.stack([np.tanh(tm[5]) if tm[8] else np.ones_like(tm[5]) for tm in terms])
    top = lg.max(axis=0)
    scaled = np.exp(lg - top)
    total = (scaled * tt).sum(axis=0)  # sum Z_i / exp(top); >= Z_1 > 0
    lnZs = top + np.log(total)
    g = scaled / total  # R_i 2cosh(u0_i) / sum Z; not exp(lg - lnZs), which rounds at |lnZ|

    Abar = 0.0
    coeffs = []
    for gi, ti, (_, AR, BR, Af, Bf, u0, u0p, u0pp, is_sinh, split) in zip(
        g, tt, terms, strict=True
    ):
        p = gi * ti
        if is_sinh:
            q = gi * u0p
            s = gi * (np.tanh(u0) * u0p**2 + u0pp)
            first = np.where(split, q + p * AR, p * np.where(split, 0.0, Af))
        else:
            q = s = None
            first = p * Af
        Abar = Abar + first
        coeffs.append((p, q, s, AR, BR, Af, Bf, split))
    second = 0.0
    for p, q, s, AR, BR, Af, Bf, split in coeffs:
        with np.errstate(invalid="ignore"):
            Df = np.where(split, 0.0, Af) - Abar
            full = p * (Df * Df + np.where(split, 0.0, Bf))
        if q is None:
            second = second + full
        else:
            D = AR - Abar
            second = second + np.where(split, s + 2.0 * q * D + p * (D * D + BR), full)

    K = K[:, 0]
    s2K = s2K[:, 0]
    N = L * L
    ln2sinh = 2.0 * K + np.log(-np.expm1(-4.0 * K))
    lnZ = -math.log(2.0) + 0.5 * N * ln2sinh + lnZs
    d1 = N / np.tanh(2.0 * K) + Abar
    d2 = -2.0 * N / s2K**2 + second
    return lnZ, d1, d2


def kaufman(L: int, T, J: float = 1.0) -> IsingThermo:
    r"""Exact thermodynamics of the zero-field Ising model on the ``L x L`` torus.

    Kaufman's partition function in the form of Ferdinand & Fisher (Phys. Rev. 185, 832
    (1969), eqs. 2.1-2.5), with ``K = J/T`` and the dual coupling ``tanh K* = exp(-2K)``::

        Z   = 1/2 (2 sinh 2K)^{L^2/2} (Z_1 + Z_2 + Z_3 + Z_4)
        Z_1 = prod_{r=0}^{L-1} 2 cosh(L gamma_{2r+1} / 2)
        Z_2 = prod_{r=0}^{L-1} 2 sinh(L gamma_{2r+1} / 2)
        Z_3 = prod_{r=0}^{L-1} 2 cosh(L gamma_{2r} / 2)
        Z_4 = prod_{r=0}^{L-1} 2 sinh(L gamma_{2r} / 2)
        cosh gamma_l = cosh 2K cosh 2K* - cos(pi l / L)  (gamma_l > 0 for l >= 1)
        gamma_0      = 2 (K - K*)                       (signed: Z_4 < 0 above T_c)

    Evaluated stably for any ``L`` (tested 2 ... 4096) and any ``T``: every factor is kept as
    a logarithm, ``cosh gamma_l - 1 = 2 sinh^2(K - K*) + 2 sin^2(pi l / 2L)`` is formed without
    cancellation, and the four terms are combined by a signed log-sum-exp (the sum is at
    least ``Z_1 > 0``). Energy and specific heat come from analytic first and second
    derivatives of ``ln Z`` with respect to ``K`` (no finite differences)::

        u = -J (d ln Z / dK) / L^2,        c = K^2 (d^2 ln Z / dK^2) / L^2.

    Accuracy (against a 45-digit evaluation of the same formula, L = 4 ... 1024, T = 0.3 ...
    100): ``ln Z`` to 1e-15 relative; ``u`` to 1e-14 relative for ``T <= 30 J`` and
    ~1e-12 at ``T = 100 J`` (the two terms of ``d ln Z / dK`` cancel like ``1/K^2``); ``c``
    to 1e-12 relative where ``c > 1e-4`` (at ``T_c`` included), and to ~1e-16 absolute
    deep in the ordered phase, where ``c ~ exp(-8K)`` is smaller than the rounding of the
    terms it is made of (e.g. ``c(T = 0.1 J) = 1.2e-31`` comes out as ~1e-21). Above
    ``T = 100 J`` the relative error of ``u`` and ``c`` keeps growing like ``1e-16 (T/J)^2``
    (absolute errors stay ~1e-16). Valid for
    ``K = J/T <= 150`` (``T >= 0.0067 J``). Requires ``J > 0``.

    Args:
        L: linear size, an integer ``>= 2``.
        T: temperature(s) ``> 0``, scalar or array.
        J: ferromagnetic coupling ``> 0``.

    Returns:
        :class:`IsingThermo` per site, shaped like ``T``; ``magnetization`` is ``nan``.
    """
    L = check_positive_int("L", L, minimum=2)
    J = _ferromagnetic_J(J)
    t = _temperatures(T)
    shape = t.shape
    t = t.reshape(-1)
    K = J / t
    if K.size and K.max() > 150.0:
        raise InvalidParameterError(
            f"expected J/T <= 150 for kaufman (deep ordered phase overflows); got J/T = {K.max():g}"
        )
    lnZ = np.empty_like(K)
    d1 = np.empty_like(K)
    d2 = np.empty_like(K)
    step = max(1, _CHUNK_ELEMENTS // (2 * L))
    for i in range(0, K.size, step):
        sl = slice(i, i + step)
        lnZ[sl], d1[sl], d2[sl] = _kaufman_block(L, K[sl])
    N = L * L
    lnz = lnZ / N
    return IsingThermo(
        _shape_out(lnz, shape),
        _shape_out(-t * lnz, shape),
        _shape_out(-J * d1 / N, shape),
        _shape_out(K * K * d2 / N, shape),
        _shape_out(np.full_like(K, np.nan), shape),
    )


# --------------------------------------------------------------------------- transfer matrix
def _spin_table(n: int) -> np.ndarray:
    """All ``2^n`` configurations as ``(2^n, n)`` float64 spins; site 0 is the top bit."""
    idx = np.arange(1 << n, dtype=np.int64)
    bits = (idx[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)) & 1
    return 1.0 - 2.0 * bits


def transfer_matrix_ising(L: int, T, J: float = 1.0) -> IsingThermo:
    r"""The ``L x L`` torus by row-to-row transfer matrices, ``Z = Tr V^L`` (``L <= 10``).

    ``V_{ss'} = exp(K [h(s)/2 + h(s')/2 + s.s'])`` with ``h(s) = sum_i s_i s_{i+1}`` the
    periodic bond sum inside a row (for ``L = 2`` both copies of the doubled bonds count,
    as in :attr:`Lattice.edges`). ``V`` is symmetric positive definite for ``K > 0``; with
    ``V = U diag(lambda) U^T`` and ``V' = E o V``, ``V'' = E^2 o V`` (``E`` the bond-sum matrix)::

        Z'  = L Tr(V^{L-1} V')
        Z'' = L Tr(V^{L-1} V'') + L sum_{j=0}^{L-2} Tr(V^j V' V^{L-2-j} V'),

    evaluated in the eigenbasis with eigenvalues scaled by the largest. An independent
    check of :func:`kaufman`; cost ``O(8^L)``. Requires ``J > 0``.

    Returns:
        :class:`IsingThermo` per site, shaped like ``T``; ``magnetization`` is ``nan``.
    """
    L = check_positive_int("L", L, minimum=2)
    if L > MAX_TRANSFER_MATRIX_L:
        raise TooLargeError(
            f"expected L <= {MAX_TRANSFER_MATRIX_L} for the transfer matrix "
            f"(a 2^L x 2^L eigenproblem); got L = {L}; use kaufman() instead"
        )
    J = _ferromagnetic_J(J)
    t = _temperatures(T)
    shape = t.shape
    t = t.reshape(-1)
    s = _spin_table(L)
    h = (s * np.roll(s, -1, axis=1)).sum(axis=1)
    E = 0.5 * (h[:, None] + h[None, :]) + s @ s.T  # bond sum per row-pair
    Emax = E.max()
    Ep = E - Emax  # <= 0
    out = np.empty((3, t.size))
    for n, K in enumerate(J / t):
        V = np.exp(K * Ep)
        lam, U = np.linalg.eigh(V)
        lmax = lam[-1]
        r = lam / lmax
        M1 = U.T @ (Ep * V) @ U / lmax
        M2 = U.T @ (Ep * Ep * V) @ U / lmax
        z = np.sum(r**L)
        z1 = L * np.sum(r ** (L - 1) * np.diag(M1))
        Sab = sum(np.outer(r**j, r ** (L - 2 - j)) for j in range(L - 1))
        z2 = L * np.sum(r ** (L - 1) * np.diag(M2)) + L * np.sum(M1 * M1.T * Sab)
        lnZ = L * (math.log(lmax) + K * Emax) + math.log(z)
        m1 = z1 / z
        out[:, n] = lnZ, m1 + L * Emax, z2 / z - m1 * m1
    N = L * L
    K = J / t
    lnz = out[0] / N
    return IsingThermo(
        _shape_out(lnz, shape),
        _shape_out(-t * lnz, shape),
        _shape_out(-J * out[1] / N, shape),
        _shape_out(K * K * out[2] / N, shape),
        _shape_out(np.full_like(t, np.nan), shape),
    )


# --------------------------------------------------------------------------- enumeration
def _pair_sum_blocks(
    n: int, edges: np.ndarray, weights: np.ndarray, first_half: bool = False
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(offset, B, M)`` over all configurations of ``n`` spins in index order.

    ``B = sum_e w_e s_a s_b`` and ``M = sum_i s_i`` for the configurations with indices
    ``offset, offset + 1, ...`` (float64, 1-D). The sites are split into a high part
    (enumerated in chunks) and a low part of at most 13 sites (tabulated once); the bonds
    across the split are one matrix product per chunk. ``first_half`` restricts the high
    part to site 0 = +1 (indices below ``2^(n-1)``) when the split leaves site 0 there.
    """
    n2 = min(n, 13)
    n1 = n - n2
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    weights = np.asarray(weights, np.float64)
    a, b = edges[:, 0], edges[:, 1]
    hh = (a < n1) & (b < n1)
    ll = (a >= n1) & (b >= n1)
    cross = ~(hh | ll)
    Wc = np.zeros((max(n1, 1), n2))
    ca, cb, cw = a[cross], b[cross], weights[cross]
    swap = ca >= n1
    ca, cb = np.where(swap, cb, ca), np.where(swap, ca, cb)
    np.add.at(Wc, (ca, cb - n1), cw)
    slo = _spin_table(n2)
    blo = (slo[:, a[ll] - n1] * slo[:, b[ll] - n1]) @ weights[ll]
    mlo = slo.sum(axis=1)
    right = Wc @ slo.T  # (n1, 2^n2)
    n_hi = 1 << n1
    if first_half and n1 >= 1:
        n_hi //= 2
    rows = max(1, _CHUNK_ELEMENTS >> n2)
    shi_all = _spin_table(n1) if n1 else np.zeros((1, 0))
    for start in range(0, n_hi, rows):
        shi = shi_all[start : min(start + rows, n_hi)]
        bhi = (shi[:, a[hh]] * shi[:, b[hh]]) @ weights[hh]
        Bblk = bhi[:, None] + blo[None, :]
        if n1:
            Bblk = Bblk + shi @ right
        Mblk = shi.sum(axis=1)[:, None] + mlo[None, :]
        yield start << n2, Bblk.reshape(-1), Mblk.reshape(-1)


def _as_lattice(lattice_or_L) -> Lattice:
    if isinstance(lattice_or_L, Lattice):
        return lattice_or_L
    if isinstance(lattice_or_L, (int, float, np.integer, np.floating)) and not isinstance(
        lattice_or_L, bool
    ):
        return Lattice.square(check_positive_int("L", lattice_or_L, minimum=2))
    raise InvalidParameterError(
        f"expected a Lattice or an integer L >= 2; got {type(lattice_or_L).__name__}"
    )


def ising_density_of_states(lattice: Lattice | int, J: float = 1.0) -> IsingDensityOfStates:
    r"""Joint histogram of ``(bond sum, magnetization)`` over all ``2^N`` configurations.

    Exact enumeration in vectorised blocks (about 1 s for ``N = 25`` on one core). Works
    for chains and square lattices, periodic or open, through :attr:`Lattice.edges`.

    Args:
        lattice: a :class:`Lattice` (or an integer ``L`` for the ``L x L`` torus) with
            ``N <= 25`` sites.
        J: coupling, only used for the ``energies`` field (any finite sign).

    Raises:
        TooLargeError: for ``N > 25``.
    """
    lattice = _as_lattice(lattice)
    J = _finite("J", J)
    N = lattice.n_sites
    if N > MAX_ENUMERATION_SITES:
        raise TooLargeError(
            f"expected at most {MAX_ENUMERATION_SITES} sites for exact enumeration "
            f"(2^N configurations); got N = {N} ({'x'.join(map(str, lattice.shape))} lattice)"
        )
    edges = lattice.edges
    nb = len(edges)
    counts = np.zeros((nb + 1) * (N + 1), np.int64)
    for _, B, M in _pair_sum_blocks(N, edges, np.ones(nb)):
        iB = (nb - np.rint(B).astype(np.int64)) // 2
        iM = (np.rint(M).astype(np.int64) + N) // 2
        counts += np.bincount(iB * (N + 1) + iM, minlength=counts.size)
    counts = counts.reshape(nb + 1, N + 1)
    bond_sums = nb - 2 * np.arange(nb + 1, dtype=np.int64)
    keep = counts.sum(axis=1) > 0
    bond_sums, counts = bond_sums[keep], counts[keep]
    mags = -N + 2 * np.arange(N + 1, dtype=np.int64)
    return IsingDensityOfStates(bond_sums, mags, counts, -J * bond_sums.astype(np.float64), N, J)


def enumerate_ising(lattice_or_L, T, J: float = 1.0, h: float = 0.0) -> IsingEnumeration:
    r"""Exact canonical averages of ``E = -J sum_<ij> s_i s_j - h sum_i s_i`` by enumeration.

    Built on :func:`ising_density_of_states`; the Boltzmann weights are formed in logs and
    shifted by the lowest energy at each ``T`` (no overflow at any ``T``), and the variances
    are computed about the mean. See :class:`IsingEnumeration` for the fields; the
    susceptibility is ``chi = beta N (<m^2> - <|m|>^2)``.

    Args:
        lattice_or_L: a :class:`Lattice` (chain or square, any boundary) or an integer ``L``
            for the ``L x L`` torus; ``N <= 25`` sites.
        T: temperature(s) ``> 0``, scalar or array.
        J, h: coupling and longitudinal field (any finite sign).
    """
    lattice = _as_lattice(lattice_or_L)
    J = _finite("J", J)
    h = _finite("h", h)
    t = _temperatures(T)
    dos = ising_density_of_states(lattice, J)
    N = dos.n_sites
    iB, iM = np.nonzero(dos.counts)
    lc = np.log(dos.counts[iB, iM].astype(np.float64))
    E = -J * dos.bond_sums[iB].astype(np.float64) - h * dos.magnetizations[iM].astype(np.float64)
    m = dos.magnetizations[iM] / N
    beta = 1.0 / t.reshape(-1, 1)
    lw = lc[None, :] - beta * E[None, :]
    top = lw.max(axis=1, keepdims=True)
    w = np.exp(lw - top)
    Zs = w.sum(axis=1, keepdims=True)
    p = w / Zs
    lnZ = (top + np.log(Zs))[:, 0]
    e_mean = p @ E
    e_var = np.sum(p * (E[None, :] - e_mean[:, None]) ** 2, axis=1)
    am = np.abs(m)
    m1 = p @ m
    abs_m = p @ am
    m2 = p @ m**2
    m4 = p @ m**4
    var_abs = np.sum(p * (am[None, :] - abs_m[:, None]) ** 2, axis=1)
    b = beta[:, 0]
    # Energy levels: merge (B, M) combinations of equal energy.
    order = np.argsort(E, kind="stable")
    Es = E[order]
    scale = max(1.0, float(np.abs(E).max()))
    new = np.concatenate([[True], np.diff(Es) > 1e-12 * scale])
    level = np.cumsum(new) - 1
    onehot = np.zeros((E.size, int(level[-1]) + 1))
    onehot[order, level] = 1.0
    levels = Es[new]
    probs = p @ onehot
    sh = t.shape
    return IsingEnumeration(
        _shape_out(lnZ / N, sh),
        _shape_out(e_mean / N, sh),
        _shape_out(b * b * e_var / N, sh),
        _shape_out(m1, sh),
        _shape_out(abs_m, sh),
        _shape_out(m2, sh),
        _shape_out(m4, sh),
        _shape_out(1.0 - m4 / (3.0 * m2 * m2), sh),
        _shape_out(b * N * var_abs, sh),
        levels,
        probs.reshape(sh + (levels.size,)),
    )


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
    J = _finite("J", J)
    g = _finite("gamma", gamma)
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
    J = abs(_finite("J", J))
    g = abs(_finite("gamma", gamma))
    s = J + g
    if s == 0.0:
        return 0.0
    m = 4.0 * J * g / (s * s)
    return float(-2.0 / math.pi * s * scipy.special.ellipe(min(m, 1.0)))


# --------------------------------------------------------------------------- Lanczos
def _as_operator(operator):
    if hasattr(operator, "sparse_matrix") and callable(operator.sparse_matrix):
        operator = operator.sparse_matrix()
    if scipy.sparse.issparse(operator) or isinstance(operator, scipy.sparse.linalg.LinearOperator):
        op = operator
    else:
        try:
            op = np.asarray(operator)
        except Exception:  # noqa: BLE001
            op = None
        if op is None or op.dtype == object or not (np.issubdtype(op.dtype, np.number)):
            raise InvalidParameterError(
                "expected a sparse matrix, LinearOperator, array or an object with "
                f".sparse_matrix(); got {type(operator).__name__}"
            )
    shape = tuple(op.shape)
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise InvalidParameterError(
            f"expected a square (n, n) operator with n >= 1; got shape {shape}"
        )
    return op


def lanczos(operator, k: int = 1, return_vectors: bool = False):
    r"""Lowest ``k`` eigenvalues (ascending) of a Hermitian operator.

    Uses :func:`scipy.sparse.linalg.eigsh` (implicitly restarted Lanczos, ``which="SA"``,
    a fixed starting vector so results are reproducible); dimensions ``<= 64`` (or
    ``k >= n - 1``) are diagonalised densely with :func:`numpy.linalg.eigh`.

    Args:
        operator: a scipy sparse matrix, a ``LinearOperator``, a dense array, or any object
            with a ``.sparse_matrix()`` method (the models of :mod:`qml_phys.physics.models`).
        k: number of eigenvalues, ``1 <= k <= n``.
        return_vectors: also return the eigenvectors.

    Returns:
        ``(k,)`` float64 eigenvalues, or ``(values, vectors)`` with ``vectors`` ``(n, k)``
        (column ``i`` belongs to ``values[i]``).
    """
    op = _as_operator(operator)
    n = op.shape[0]
    k = check_positive_int("k", k, minimum=1)
    if k > n:
        raise InvalidParameterError(f"expected k <= dimension {n}; got k = {k}")
    if n <= _DENSE_EIGH_MAX_DIM or k >= n - 1:
        if isinstance(op, scipy.sparse.linalg.LinearOperator):
            dense = op @ np.eye(n)
        elif scipy.sparse.issparse(op):
            dense = op.toarray()
        else:
            dense = np.asarray(op)
        asym = np.max(np.abs(dense - dense.conj().T))
        if asym > 1e-10 * max(1.0, np.max(np.abs(dense))):
            raise InvalidParameterError(
                f"expected a Hermitian operator; got max |A - A^H| = {asym:.3g}"
            )
        vals, vecs = np.linalg.eigh(dense)
        vals, vecs = vals[:k], vecs[:, :k]
    else:
        v0 = np.random.default_rng(0).standard_normal(n)
        vals, vecs = scipy.sparse.linalg.eigsh(op, k=k, which="SA", v0=v0, tol=0.0)
        order = np.argsort(vals)
        vals, vecs = vals[order], vecs[:, order]
    vals = np.asarray(vals.real, np.float64)
    return (vals, vecs) if return_vectors else vals


# --------------------------------------------------------------------------- MaxCut
def maxcut_brute_force(graph) -> tuple[float, np.ndarray]:
    r"""Maximum cut of a weighted graph by exhaustive search (``<= 26`` nodes).

    The cut of spins ``s`` is ``C(s) = sum_{(i,j)} w_ij (1 - s_i s_j) / 2``; weights may be
    negative. Site 0 is fixed to ``+1`` (the cut is invariant under a global flip), so
    ``2^(n-1)`` assignments are scanned in vectorised blocks (about 1 s at ``n = 26``). Ties
    go to the lowest configuration index (site 0 the top bit, ``+1`` = bit 0).

    Args:
        graph: a :class:`Graph`, or an object with ``.to_graph()`` (a :class:`Lattice`) or a
            ``.graph`` attribute holding a :class:`Graph` (e.g. a MaxCut model).

    Returns:
        ``(value, spins)``: the maximum cut (float) and one optimal assignment,
        ``(n_nodes,)`` int8 in ``{-1, +1}`` with ``spins[0] = +1``.

    Raises:
        TooLargeError: for more than 26 nodes.
    """
    if not isinstance(graph, Graph):
        if isinstance(getattr(graph, "graph", None), Graph):
            graph = graph.graph
        elif hasattr(graph, "to_graph"):
            graph = graph.to_graph()
        else:
            raise InvalidParameterError(
                f"expected a Graph (or an object with .to_graph()); got {type(graph).__name__}"
            )
    n = graph.n_nodes
    if n > MAX_MAXCUT_NODES:
        raise TooLargeError(
            f"expected at most {MAX_MAXCUT_NODES} nodes for brute-force MaxCut "
            f"(2^(n-1) assignments); got {n} nodes"
        )
    best_B, best_idx = math.inf, 0
    for offset, B, _ in _pair_sum_blocks(n, graph.edges, graph.weights, first_half=True):
        i = int(np.argmin(B))
        if B[i] < best_B:
            best_B, best_idx = float(B[i]), offset + i
    bits = (best_idx >> np.arange(n - 1, -1, -1)) & 1
    spins = (1 - 2 * bits).astype(np.int8)
    a, b = graph.edges[:, 0], graph.edges[:, 1]
    value = float(np.sum(graph.weights[spins[a] != spins[b]]))
    return value, spins
