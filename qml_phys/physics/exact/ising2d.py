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
    Above ``T = J / HIGH_T_K = 100 J`` the high-temperature expansion (through ``t^8``)
    replaces the closed forms, which lose precision like ``1e-16 (T/J)^2`` there; it is
    exact to rounding at those temperatures, up to ``T = 1e300``.
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
    hot = K < HIGH_T_K  # the closed forms cancel like 1/K^2 there: the series instead
    if np.any(hot):
        lnz_h, d1_h, d2_h = _series_square(K[hot])
        lnz, u, c = lnz.copy(), u.copy(), c.copy()
        lnz[hot], u[hot], c[hot] = lnz_h, -J * d1_h, K[hot] ** 2 * d2_h
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


#: The four terms of Kaufman's sum: (parity of l, sinh or cosh), in the order Z_1..Z_4.
_CLASSES = ((1, False), (1, True), (0, False), (0, True))


def _modes(L: int, l: np.ndarray, a, sh0, g0, g0p, g0pp) -> dict:
    """For modes ``l`` ``(1, m)``: ``u = L gamma_l / 2`` and its K-derivatives, and
    ``ln 2cosh u``, ``ln 2sinh |u|`` with their first two derivatives in ``u``, each
    ``(nK, m)``."""
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
    cosh_terms = (_ln2cosh(u), tu, 4.0 * e / (1.0 + e) ** 2)  # ln 2cosh u, tanh u, sech^2 u
    with np.errstate(divide="ignore", invalid="ignore"):
        sinh_terms = (
            np.abs(u) + np.log(-np.expm1(-2.0 * np.abs(u))),  # ln 2 sinh |u|
            1.0 / tu,
            -4.0 * e / np.expm1(-2.0 * np.abs(u)) ** 2,  # -csch^2 u
        )
    return {"u": (u, up, upp), "c": cosh_terms, "s": sinh_terms}


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

    # Sums over the modes l of each of the four terms, accumulated over chunks of l so that
    # memory stays bounded for any L (L = 10^8 takes seconds, not 24 GB).
    sums = {cls: [0.0, 0.0, 0.0] for cls in _CLASSES}
    first = {}
    n_modes = 2 * L
    step = max(2, CHUNK_ELEMENTS // K.shape[0])
    for start in range(0, n_modes, step):
        l = np.arange(start, min(start + step, n_modes))[None, :]
        modes = _modes(L, l, a, sh0, g0, g0p, g0pp)
        for parity, is_sinh in _CLASSES:
            lf, dlf, d2lf = modes["s" if is_sinh else "c"]
            u, up, upp = modes["u"]
            mine = (l % 2 == parity)[0]
            rest = mine & (l[0] != parity)  # the first mode of the class is kept apart
            acc = sums[(parity, is_sinh)]
            acc[0] = acc[0] + lf[:, rest].sum(axis=1)
            acc[1] = acc[1] + (dlf[:, rest] * up[:, rest]).sum(axis=1)
            acc[2] = acc[2] + (d2lf[:, rest] * up[:, rest] ** 2 + dlf[:, rest] * upp[:, rest]).sum(
                axis=1
            )
            if start == 0:
                j = parity  # l = 0 (even) and l = 1 (odd) are both in the first chunk
                first[(parity, is_sinh)] = (
                    lf[:, j],
                    dlf[:, j],
                    d2lf[:, j],
                    u[:, j],
                    up[:, j],
                    upp[:, j],
                )

    # Each Z_i = prod_r F(u_r), F = 2cosh or 2sinh. With the weights p_i = Z_i / sum_j Z_j,
    # A_i = d ln Z_i / dK and B_i = d^2 ln Z_i / dK^2:
    #   d ln(sum Z) / dK     = Abar = sum_i p_i A_i
    #   d^2 ln(sum Z) / dK^2 = sum_i p_i [(A_i - Abar)^2 + B_i]      (centred: no cancellation)
    # Z_4's first factor 2 sinh(L gamma_0 / 2) vanishes at T_c (and A_4, B_4 diverge), so for
    # sinh-type terms with |u_0| < 1 the first factor F is split off, R = Z_i / F > 0, and
    #   Z_i' / sum Z  = q + p A_R,     Z_i'' / sum Z - ... = s + 2 q D + p (D^2 + B_R),
    # with p = F R / sum Z, q = F' R / sum Z, s = F'' R / sum Z and D = A_R - Abar.
    terms = []
    for parity, is_sinh in _CLASSES:
        lnR, AR, BR = sums[(parity, is_sinh)]
        lf0, dlf0, d2lf0, u0, u0p, u0pp = first[(parity, is_sinh)]
        with np.errstate(divide="ignore", invalid="ignore"):
            A_full = AR + dlf0 * u0p
            B_full = BR + d2lf0 * u0p**2 + dlf0 * u0pp
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


#: ``K = J/T`` below which the high-temperature expansion replaces the closed forms: there
#: ``d ln Z / dK`` of Kaufman's formula is a difference of terms ``~ 1/K`` that cancel to
#: ``~ K`` (relative error ``~1e-16 / K^2``), while the series is exact to ``O(t^9)``.
HIGH_T_K = 0.01


def _series_square(K):
    r"""``(ln Z/N, d/dK, d^2/dK^2)`` of the infinite square lattice at small ``K`` from the
    high-temperature expansion ``ln Z/N = ln 2 + 2 ln cosh K + t^4 + 2 t^6 + 9/2 t^8 +
    O(t^10)``, ``t = tanh K`` (C. Domb, Adv. Phys. 9, 149 (1960)): closed loops of 4, 6 and
    8 bonds. Exact for the ``L x L`` torus as well when ``L >= 10`` (loops that wind around
    it have ``L`` bonds or more)."""
    t = np.tanh(K)
    w = 1.0 - t * t  # dt/dK
    g = t**4 + 2.0 * t**6 + 4.5 * t**8
    g1 = 4.0 * t**3 + 12.0 * t**5 + 36.0 * t**7
    g2 = 12.0 * t**2 + 60.0 * t**4 + 252.0 * t**6
    lnz = math.log(2.0) + 2.0 * np.log(np.cosh(K)) + g
    d1 = 2.0 * t + w * g1
    d2 = 2.0 * w + w * w * g2 - 2.0 * t * w * g1
    return lnz, d1, d2


def _loop_polynomial(L: int) -> np.ndarray:
    r"""Coefficients ``a_k`` of ``P(t) = sum_k a_k t^k``, the number of even subgraphs of
    the ``L x L`` torus with ``k`` bonds (``Z = 2^N cosh^{N_b} K P(tanh K)``), from its
    exact density of states: ``P(t) = 2^{-N} sum_s prod_b (1 + t s_i s_j)``, and a
    configuration with ``n_+`` satisfied bonds contributes ``(1 + t)^{n_+} (1 - t)^{n_-}``.
    Integers, exact in float64 for ``L <= 5``."""
    from qml_phys.physics.exact.enumeration import ising_density_of_states
    from qml_phys.physics.lattice import Lattice

    lattice = Lattice.square(L)
    n_b = len(lattice.edges)
    dos = ising_density_of_states(lattice)
    total = [0] * (n_b + 1)
    plus = [[1]]
    for _ in range(n_b):  # binomial rows of (1 + t)^k and (1 - t)^k, as Python integers
        plus.append([1] + [plus[-1][i] + plus[-1][i + 1] for i in range(len(plus[-1]) - 1)] + [1])
    for bond_sum, count in zip(dos.bond_sums, dos.counts.sum(axis=1), strict=True):
        n_plus = (n_b + int(bond_sum)) // 2
        a = plus[n_plus]
        b = [c * (-1) ** i for i, c in enumerate(plus[n_b - n_plus])]
        prod = np.convolve(np.array(a, dtype=object), np.array(b, dtype=object))
        for k, c in enumerate(prod):
            total[k] += int(count) * int(c)
    n = lattice.n_sites
    return np.array([c // 2**n for c in total], dtype=np.float64), n_b


def _series_small_torus(L: int, K):
    """``(ln Z/N, d/dK, d^2/dK^2)`` of the ``L x L`` torus (``L <= 5``) from its exact loop
    polynomial (:func:`_loop_polynomial`): no cancellation at small ``K``."""
    a, n_b = _loop_polynomial(L)
    n = L * L
    t = np.tanh(K)
    w = 1.0 - t * t
    P = np.polynomial.polynomial.polyval(t, a)
    P1 = np.polynomial.polynomial.polyval(t, np.polynomial.polynomial.polyder(a))
    P2 = np.polynomial.polynomial.polyval(t, np.polynomial.polynomial.polyder(a, 2))
    lnz = math.log(2.0) + (n_b / n) * np.log(np.cosh(K)) + np.log(P) / n
    d1 = (n_b / n) * t + w * P1 / (n * P)
    d2 = (n_b / n) * w + (w * w * (P2 * P - P1 * P1) / (P * P) - 2.0 * t * w * P1 / P) / n
    return lnz, d1, d2


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
    ~1e-12 at ``T = 100 J`` (the two terms of ``d ln Z / dK`` cancel like ``1/K^2``; above
    ``T = 100 J`` the high-temperature expansion takes over: the series through ``t^8`` for
    ``L >= 10``, exact for the torus there, and the exact loop polynomial of the torus from
    its density of states for ``L <= 5``; ``6 <= L <= 9`` uses the closed form up to
    ``T = 1000 J``, ~1e-10 relative, and refuses higher ``T``); ``c``
    to 1e-12 relative where ``c > 1e-4`` (at ``T_c`` included), and to ~1e-16 absolute
    deep in the ordered phase, where ``c ~ exp(-8K)`` is smaller than the rounding of the
    terms it is made of (e.g. ``c(T = 0.1 J) = 1.2e-31`` comes out as ~1e-21). Valid for
    ``K = J/T <= 150`` (``T >= 0.0067 J``; lower ``T`` is a named error) and any ``L``: the
    modes are summed in chunks, so memory stays bounded (``L = 10^7`` at ``T_c``: ~10 s).
    Requires ``J > 0``.

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
    hot = K < HIGH_T_K
    if np.any(hot) and 6 <= L <= 9 and K[hot].min() < 1e-3:
        raise InvalidParameterError(
            f"kaufman: on an L x L torus with 6 <= L <= 9 the closed form loses precision "
            f"above T = 1000 J and the high-temperature series needs L <= 5 or L >= 10; got "
            f"L = {L}, T = {J / K[hot].min():g} J"
        )
    N = L * L
    lnz = np.empty_like(K)
    d1 = np.empty_like(K)
    d2 = np.empty_like(K)
    if L <= 5 or L >= 10:
        if np.any(hot):
            series = _series_small_torus(L, K[hot]) if L <= 5 else _series_square(K[hot])
            lnz[hot], d1[hot], d2[hot] = series
    else:
        hot = np.zeros_like(hot)
    cold = np.nonzero(~hot)[0]
    step = max(1, CHUNK_ELEMENTS // (2 * L))
    for i in range(0, cold.size, step):
        sl = cold[i : i + step]
        lnZ, D1, D2 = _kaufman_block(L, K[sl])
        lnz[sl], d1[sl], d2[sl] = lnZ / N, D1 / N, D2 / N
    return IsingThermo(
        shape_out(lnz, shape),
        shape_out(-t * lnz, shape),
        shape_out(-J * d1, shape),
        shape_out(K * K * d2, shape),
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
