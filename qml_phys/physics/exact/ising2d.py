r"""The 2D Ising model on the square lattice: Onsager and Yang (infinite lattice), Kaufman
(the finite ``L x L`` torus), and row-to-row transfer matrices (an independent check).

L. Onsager, Phys. Rev. 65, 117 (1944), doi:10.1103/PhysRev.65.117; C. N. Yang, Phys. Rev.
85, 808 (1952), doi:10.1103/PhysRev.85.808; B. Kaufman, Phys. Rev. 76, 1232 (1949),
doi:10.1103/PhysRev.76.1232, in the form of A. E. Ferdinand and M. E. Fisher, Phys. Rev.
185, 832 (1969), doi:10.1103/PhysRev.185.832, evaluated in logs with analytic derivatives.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import scipy.integrate
import scipy.special

from qml_phys.errors import InvalidParameterError, TooLargeError, check_positive_int
from qml_phys.physics.exact._common import (
    CHUNK_ELEMENTS,
    ferromagnetic_J,
    shape_out,
    spin_table,
    temperatures,
)

MAX_TRANSFER_MATRIX_L = 10
"""Largest ``L`` of :func:`transfer_matrix_ising` (a ``2^L x 2^L`` dense eigenproblem)."""


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


# --------------------------------------------------------------------------- Onsager, Yang
def onsager_tc(J: float = 1.0) -> float:
    r"""Onsager's critical temperature of the square lattice, ``T_c = 2 J / ln(1 + sqrt 2)``.

    ``T_c ~= 2.269185314213022 J``. Requires ``J > 0``.
    """
    J = ferromagnetic_J(J)
    return 2.0 * J / math.log1p(math.sqrt(2.0))


def yang_magnetization(T, J: float = 1.0):
    r"""Yang's spontaneous magnetization per site of the infinite square lattice.

    ``m(T) = (1 - sinh(2 J / T)^{-4})^{1/8}`` for ``T < T_c`` and 0 for ``T >= T_c``
    (C. N. Yang, Phys. Rev. 85, 808 (1952)). Vectorised over ``T``.
    """
    J = ferromagnetic_J(J)
    t = temperatures(T)
    K = J / t
    s = np.sinh(2.0 * K)
    with np.errstate(divide="ignore", over="ignore"):
        inner = np.clip(-np.expm1(-4.0 * np.log(s)), 0.0, 1.0)
    m = np.where(t < onsager_tc(J), inner**0.125, 0.0)
    return shape_out(m, t.shape)


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
    J = ferromagnetic_J(J)
    t = temperatures(T)
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
        shape_out(lnz, shape),
        shape_out(-t * lnz, shape),
        shape_out(u, shape),
        shape_out(c, shape),
        shape_out(m, shape),
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
    J = ferromagnetic_J(J)
    t = temperatures(T)
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
    step = max(1, CHUNK_ELEMENTS // (2 * L))
    for i in range(0, K.size, step):
        sl = slice(i, i + step)
        lnZ[sl], d1[sl], d2[sl] = _kaufman_block(L, K[sl])
    N = L * L
    lnz = lnZ / N
    return IsingThermo(
        shape_out(lnz, shape),
        shape_out(-t * lnz, shape),
        shape_out(-J * d1 / N, shape),
        shape_out(K * K * d2 / N, shape),
        shape_out(np.full_like(K, np.nan), shape),
    )


# --------------------------------------------------------------------------- transfer matrix
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
    J = ferromagnetic_J(J)
    t = temperatures(T)
    shape = t.shape
    t = t.reshape(-1)
    s = spin_table(L)
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
        shape_out(lnz, shape),
        shape_out(-t * lnz, shape),
        shape_out(-J * out[1] / N, shape),
        shape_out(K * K * out[2] / N, shape),
        shape_out(np.full_like(t, np.nan), shape),
    )
