r"""Quantum quench of the periodic transverse-field Ising chain, exactly, for any ``N``.

``H(Gamma) = -J sum_{i=0}^{N-1} Z_i Z_{i+1} - Gamma sum_i X_i`` with ``Z_N = Z_0`` (the
package's :class:`~qml_phys.physics.models.TransverseFieldIsing` on ``Lattice.chain(N)``
with ``h = 0``, ``gamma = Gamma``). The chain starts in the ground state of ``H(h0)`` and
evolves under ``H(h1)``: ``|psi(t)> = exp(-i H(h1) t) |psi_0(h0)>`` (``hbar = 1``, times in
units of ``1/J`` for ``J = 1``). :func:`tfim_quench` returns

* ``x(t) = (1/N) sum_i <X_i>`` -- the transverse magnetisation;
* ``zz(t) = (1/N) sum_i <Z_i Z_{i+1}>`` -- the nearest-neighbour correlation, averaged
  over the ``N`` bonds;
* ``energy(t) = <H(h1)> = -J N zz(t) - h1 N x(t)`` -- conserved.

Method (P. Pfeuty, Ann. Phys. 57, 79 (1970), doi:10.1016/0003-4916(70)90270-8; the quench
as in P. Calabrese, F. H. L. Essler and M. Fagotti, J. Stat. Mech. (2012) P07016,
arXiv:1204.3911, and E. Barouch, B. M. McCoy and M. Dresden, PRA 2, 1075 (1970)). In the
rotated basis ``sigma^z = X``, ``sigma^x = Z`` the Jordan-Wigner fermions
``X_i = 1 - 2 c_i^dag c_i`` conserve the parity ``P = prod_i X_i``. The ground state of
``H(h0)`` for ``h0 > 0`` has ``P = +1``, and so does ``|+>^N`` (``h0 = inf``); ``H(h1)``
conserves ``P``. In that sector the fermions are *antiperiodic*, ``c_N = -c_0``, with
momenta ``k = pi (2m + 1) / N``, ``m = 0 .. N-1``: ``k = 0`` never occurs, and ``k = pi``
occurs only for odd ``N``. Each pair ``(k, -k)``, ``0 < k < pi``, is a two-level problem in
the Nambu spinor ``psi_k = (c_k, c_{-k}^dag)``,

    H_k = psi_k^dag M_k psi_k + const,   M_k = a_k sigma_z + b_k sigma_y,
    a_k = 2 (Gamma - J cos k),  b_k = 2 J sin k,  eps_k = sqrt(a_k^2 + b_k^2),

with the Bogoliubov angle ``theta_k = atan2(b_k, a_k)``. The correlation matrix
``G_k = <psi_k psi_k^dag> = (1 + n_k . sigma) / 2`` of the ground state has the Bloch
vector ``n_k = (0, sin theta_k(h0), cos theta_k(h0))`` (``(0, 0, 1)`` for ``h0 = inf``),
and under ``H(h1)`` it rotates about ``m_k = (0, sin theta_k(h1), cos theta_k(h1))`` by the
angle ``2 eps_k(h1) t``. The unpaired mode ``k = pi`` (odd ``N``) has energy ``2(Gamma + J)
> 0``: empty before and after the quench. Then

    x(t)  = (1/N) [ sum_{0<k<pi} 2 n_k^z(t) + [N odd] ],
    zz(t) = (1/N)   sum_{0<k<pi} [ 2 cos k (1 - n_k^z(t)) + 2 sin k n_k^y(t) ].

Valid for ``N >= 2`` (even or odd), ``J > 0``, ``h0 >= 0`` (``h0 = 0``: the even cat state
``(|up..up> + |down..down>) / sqrt 2``; ``h0 = inf``: the product state ``|+>^N =
|->...->>``, ``X_i = +1``) and ``h1 >= 0``. ``N = 2`` has two bonds joining the same pair,
as ``Lattice.chain(2).edges``; the formulas cover it. Tested against exact
diagonalisation (``scipy.sparse.linalg.expm_multiply``) to 1e-10 in
``tests/physics/test_tfim_dynamics.py``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from qml_phys.errors import InvalidParameterError, check_positive_int

__all__ = ["TFIMQuench", "tfim_quench"]


@dataclasses.dataclass(frozen=True)
class TFIMQuench:
    """Exact observables of a quench of the periodic TFIM chain (see the module docstring).

    Arrays have shape ``(n_times,)``, float64.
    """

    N: int
    """Sites (= bonds) of the periodic chain."""
    J: float
    """``ZZ`` coupling."""
    h0: float
    """Transverse field of the initial ground state (``math.inf``: ``|+>^N``)."""
    h1: float
    """Transverse field of the evolution."""
    times: np.ndarray
    """``(n_times,)`` times (units of ``1/J`` for ``J = 1``)."""
    x: np.ndarray
    """``(n_times,)`` mean transverse magnetisation ``(1/N) sum_i <X_i>``."""
    zz: np.ndarray
    """``(n_times,)`` bond-averaged ``(1/N) sum_i <Z_i Z_{i+1}>``."""
    energy: np.ndarray
    """``(n_times,)`` ``<H(h1)> = -J N zz - h1 N x`` (constant up to rounding)."""

    @property
    def observables(self) -> dict[str, np.ndarray]:
        """``{"x": x, "zz": zz, "energy": energy}``."""
        return {"x": self.x, "zz": self.zz, "energy": self.energy}


def _field(name: str, value, *, allow_inf: bool) -> float:
    """``value`` as a float ``>= 0`` (``inf`` only where allowed); else an error."""
    try:
        g = float(value)
    except (TypeError, ValueError):
        g = math.nan
    ok = g >= 0 and (math.isfinite(g) or (allow_inf and g == math.inf))
    if not ok:
        what = (
            "a number >= 0 or inf (the product state |+>^N)"
            if allow_inf
            else "a finite number >= 0"
        )
        raise InvalidParameterError(f"{name}: expected {what}; got {value!r}")
    return g


def _bloch_angle(k: np.ndarray, J: float, g: float) -> tuple[np.ndarray, np.ndarray]:
    """``(theta_k, eps_k)`` of ``M_k = a_k sigma_z + b_k sigma_y`` at field ``g``."""
    a = 2.0 * (g - J * np.cos(k))
    b = 2.0 * J * np.sin(k)
    return np.arctan2(b, a), np.hypot(a, b)


def tfim_quench(N: int, h0: float, h1: float, times, J: float = 1.0) -> TFIMQuench:
    r"""``<X>(t)``, ``<Z Z>(t)`` and ``<H(h1)>(t)`` after the quench ``h0 -> h1`` (exact).

    Args:
        N: sites of the periodic chain, ``>= 2``.
        h0: transverse field of the initial ground state, ``>= 0``; ``math.inf`` for
            the product state ``|+>^N`` exactly.
        h1: transverse field of the evolution, finite, ``>= 0``.
        times: ``(n_times,)`` times (or one time), finite; negative times evolve backwards.
        J: ``ZZ`` coupling, ``> 0``.

    Returns:
        :class:`TFIMQuench` with ``(n_times,)`` arrays. Cost ``O(N n_times)``.
    """
    N = check_positive_int("N", N, minimum=2)
    h0 = _field("h0", h0, allow_inf=True)
    h1 = _field("h1", h1, allow_inf=False)
    try:
        J = float(J)
    except (TypeError, ValueError):
        J = math.nan
    if not (math.isfinite(J) and J > 0):
        raise InvalidParameterError(f"J: expected a finite coupling J > 0; got {J!r}")
    t = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise InvalidParameterError(
            f"times: expected a 1-d array of finite times; got shape {t.shape}"
        )
    m = np.arange(N // 2)  # the pairs (k, -k) with 0 < k < pi
    k = math.pi * (2 * m + 1) / N
    if h0 == math.inf:
        th0 = np.zeros_like(k)
    else:
        th0, _ = _bloch_angle(k, J, h0)
    th1, eps1 = _bloch_angle(k, J, h1)
    # Bloch vectors in the (y, z) plane; n0 rotated about m by phi = 2 eps1 t
    n0 = np.stack([np.zeros_like(k), np.sin(th0), np.cos(th0)], axis=-1)  # (P, 3)
    mk = np.stack([np.zeros_like(k), np.sin(th1), np.cos(th1)], axis=-1)
    par = np.sum(mk * n0, axis=-1, keepdims=True) * mk  # (P, 3) component along m
    perp = n0 - par
    cross = np.cross(mk, n0)
    phi = 2.0 * eps1[None, :] * t[:, None]  # (T, P)
    c, s = np.cos(phi)[..., None], np.sin(phi)[..., None]
    n = par[None] + c * perp[None] + s * cross[None]  # (T, P, 3)
    ny, nz = n[..., 1], n[..., 2]
    x = (2.0 * np.sum(nz, axis=-1) + (N % 2)) / N
    zz = np.sum(2.0 * np.cos(k) * (1.0 - nz) + 2.0 * np.sin(k) * ny, axis=-1) / N
    energy = -J * N * zz - h1 * N * x
    return TFIMQuench(N=N, J=J, h0=h0, h1=h1, times=t, x=x, zz=zz, energy=energy)
