r"""Lattice :math:`\phi^4` field theory in two dimensions (periodic :math:`L\times L` torus).

Parametrisation (Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072,
eq. (8); the same as their tutorial arXiv:2101.08176):

.. math::

    S(\phi) = \sum_x \Big[\sum_{\mu=1}^{2} \phi_x\,(2\phi_x - \phi_{x+\hat\mu}
              - \phi_{x-\hat\mu}) + m^2 \phi_x^2 + \lambda \phi_x^4\Big],

with the weight :math:`e^{-S}` (no factor 1/2 in front of the kinetic term). The
paper's ensembles hold :math:`m^2 = -4` and tune :math:`\lambda` so that
:math:`m_p L = 4` (:data:`ALBERGO_LAMBDA`, their E1-E5: :math:`L = 6, 8, 10, 12, 14` with
:math:`\lambda = 6.975, 6.008, 5.550, 5.276, 5.113`): the symmetric phase, close to the
transition, where Hybrid Monte Carlo decorrelates the magnetization slowly. The package
default (:data:`DEFAULT_M2`, :data:`DEFAULT_LAM`) is their 8x8 ensemble E2;
:func:`albergo_lambda` gives the coupling for the other sizes.

The action is bounded below only for :math:`\lambda > 0`, or :math:`\lambda = 0` with
:math:`m^2 > 0` (the free field); anything else raises :class:`InvalidParameterError`.

Free field (:math:`\lambda = 0`): :math:`S = \phi^T A\phi` with :math:`A = -\Delta + m^2`,
so the propagator is :math:`\langle\phi_x\phi_y\rangle = (2A)^{-1}_{xy} =
\frac1V\sum_k e^{ik(x-y)} / \big(2(m^2 + \sum_\mu 4\sin^2(k_\mu/2))\big)`
(:func:`free_propagator`).

Shapes: a configuration is ``(L, L)`` float; batches are ``(..., L, L)``; actions and
observables are per configuration, ``(...)``.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int

DEFAULT_M2 = -4.0
#: lambda of the ensembles E1-E5 of Albergo et al. (m^2 = -4, m_p L = 4), by L.
ALBERGO_LAMBDA = {6: 6.975, 8: 6.008, 10: 5.550, 12: 5.276, 14: 5.113}
DEFAULT_LAM = ALBERGO_LAMBDA[8]


def albergo_lambda(L: int) -> float:
    """The coupling of Albergo et al.'s ensemble on the ``L x L`` lattice (m^2 = -4)."""
    if L not in ALBERGO_LAMBDA:
        sizes = ", ".join(str(k) for k in ALBERGO_LAMBDA)
        raise InvalidParameterError(
            f"expected L in ({sizes}) for the published couplings; got L={L}: give lambda"
        )
    return ALBERGO_LAMBDA[L]


@dataclasses.dataclass(frozen=True)
class Phi4:
    """The lattice :math:`\\phi^4` theory on an ``L x L`` torus (see the module docstring)."""

    L: int
    """Linear lattice size (>= 2)."""
    m2: float = DEFAULT_M2
    """Bare mass squared m² (any real number; must be > 0 when lam = 0)."""
    lam: float = DEFAULT_LAM
    """Quartic coupling λ >= 0."""

    def __post_init__(self):
        object.__setattr__(self, "L", check_positive_int("L", self.L, minimum=2))
        check_couplings(self.m2, self.lam)
        object.__setattr__(self, "m2", float(self.m2))
        object.__setattr__(self, "lam", float(self.lam))

    @property
    def volume(self) -> int:
        return self.L * self.L

    def action(self, phi: jax.Array) -> jax.Array:
        """S(φ) of ``phi`` ``(..., L, L)``; returns ``(...)``."""
        return action(self._check(phi), m2=self.m2, lam=self.lam)

    def grad(self, phi: jax.Array) -> jax.Array:
        """dS/dφ of ``phi`` ``(..., L, L)`` (analytic); returns ``(..., L, L)``."""
        return action_grad(self._check(phi), m2=self.m2, lam=self.lam)

    def _check(self, phi):
        phi = jnp.asarray(phi)
        if phi.ndim < 2 or phi.shape[-2:] != (self.L, self.L):
            raise ShapeError(
                f"expected fields of shape (..., {self.L}, {self.L}); got shape {phi.shape}"
            )
        if not jnp.issubdtype(phi.dtype, jnp.floating):
            raise ShapeError(f"expected a floating-point field; got dtype {phi.dtype}")
        return phi


def check_couplings(m2: float, lam: float) -> None:
    """Raise unless e^{-S} is normalisable: λ > 0, or λ = 0 and m² > 0."""
    for name, v in (("m2", m2), ("lam", lam)):
        if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise InvalidParameterError(f"{name} must be a finite number; got {v!r}")
    if lam < 0:
        raise InvalidParameterError(
            f"lam must be >= 0: with lam < 0 the action is unbounded below and e^-S cannot "
            f"be normalised; got lam={lam!r}"
        )
    if lam == 0 and m2 <= 0:
        raise InvalidParameterError(
            f"the free field (lam=0) needs m2 > 0, otherwise the action is unbounded below "
            f"(or flat along the zero mode); got m2={m2!r}"
        )


def _neighbour_sum(phi):
    return (
        jnp.roll(phi, 1, -1) + jnp.roll(phi, -1, -1) + jnp.roll(phi, 1, -2) + jnp.roll(phi, -1, -2)
    )


def action(phi: jax.Array, *, m2: float, lam: float) -> jax.Array:
    """S(φ) (Albergo et al. form) of ``phi`` ``(..., L, L)``, summed over sites: ``(...)``."""
    # Σ_x Σ_μ φ_x(2φ_x - φ_{x+μ} - φ_{x-μ}) = Σ_x [4φ_x² - 2 Σ_μ φ_x φ_{x+μ}]
    phi2 = phi * phi
    hop = phi * (jnp.roll(phi, -1, -1) + jnp.roll(phi, -1, -2))
    density = (4.0 + m2) * phi2 + lam * phi2 * phi2 - 2.0 * hop
    return jnp.sum(density, axis=(-2, -1))


def action_grad(phi: jax.Array, *, m2: float, lam: float) -> jax.Array:
    """Analytic dS/dφ_x = 2(4 + m²)φ_x + 4λφ_x³ − 2 Σ_nn φ_y; shape of ``phi``."""
    return 2.0 * (4.0 + m2) * phi + 4.0 * lam * phi * phi * phi - 2.0 * _neighbour_sum(phi)


# --------------------------------------------------------------------------- observables
def magnetization(phi: jax.Array) -> jax.Array:
    """Per-site magnetization m = (1/V) Σ_x φ_x of ``(..., L, L)``: ``(...)``."""
    return jnp.mean(phi, axis=(-2, -1))


def two_point(phi: jax.Array) -> jax.Array:
    """Per-configuration two-point function G(x) = (1/V) Σ_y φ_y φ_{y+x}: ``(..., L, L)``.

    Averaged over configurations this is the full (= connected, since ⟨φ⟩ = 0 by the
    φ → −φ symmetry on a finite lattice) propagator; ``G[..., 0, 0]`` is φ² per site.
    """
    f = jnp.fft.fft2(phi)
    return jnp.real(jnp.fft.ifft2(f * jnp.conj(f))) / (phi.shape[-1] * phi.shape[-2])


def observables(phi) -> dict[str, np.ndarray]:
    """Per-configuration series of ``phi`` ``(..., L, L)`` (numpy float64).

    ``phi2`` (⟨φ²⟩ per site), ``abs_m`` (|m|), ``m``, ``chi`` (V m², the susceptibility
    estimator), ``g1`` (G at distance one, averaged over the two axes).
    """
    phi = jnp.asarray(phi)
    g = two_point(phi)
    m = magnetization(phi)
    V = phi.shape[-1] * phi.shape[-2]
    return {
        "phi2": np.asarray(g[..., 0, 0], np.float64),
        "abs_m": np.abs(np.asarray(m, np.float64)),
        "m": np.asarray(m, np.float64),
        "chi": V * np.asarray(m, np.float64) ** 2,
        "g1": 0.5 * np.asarray(g[..., 0, 1] + g[..., 1, 0], np.float64),
    }


def free_propagator(L: int, m2: float) -> np.ndarray:
    """Exact ⟨φ_0 φ_x⟩ of the free field (λ = 0, m² > 0) on the L x L torus: ``(L, L)``."""
    L = check_positive_int("L", L, minimum=2)
    check_couplings(m2, 0.0)
    k = 2 * np.pi * np.arange(L) / L
    khat2 = 4 * np.sin(k[:, None] / 2) ** 2 + 4 * np.sin(k[None, :] / 2) ** 2
    return np.real(np.fft.ifft2(1.0 / (2.0 * (m2 + khat2))))
