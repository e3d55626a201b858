r"""Ising observables with honest error bars from recorded Monte Carlo time series.

Inputs are per-site energy :math:`e = E/N` and per-site magnetization :math:`m = M/N`
series, shape ``(n,)`` or ``(n_chains, n)`` (equilibrated; Monte Carlo time along the last
axis), at temperature ``T`` (units of ``J``, :math:`k_B = 1`) on ``N = n_sites`` sites.

Definitions (:math:`\beta = 1/T`, all intensive):

* ``energy`` :math:`\langle e\rangle`, ``m`` :math:`\langle m\rangle`, ``abs_m``
  :math:`\langle|m|\rangle`, ``m2`` :math:`\langle m^2\rangle`, ``m4`` :math:`\langle m^4\rangle`;
* ``specific_heat`` :math:`c = \beta^2 N (\langle e^2\rangle - \langle e\rangle^2)`;
* ``susceptibility`` :math:`\chi = \beta N (\langle m^2\rangle - \langle|m|\rangle^2)`, the
  finite-lattice convention that is right on both sides of :math:`T_c` (on a finite
  lattice :math:`\langle m\rangle = 0` by symmetry, so :math:`\langle m^2\rangle -
  \langle m\rangle^2` would grow like :math:`N` below :math:`T_c`);
* ``susceptibility_m2`` :math:`\chi' = \beta N \langle m^2\rangle`, equal to :math:`\chi`
  in the high-temperature phase as :math:`N\to\infty`;
* ``binder`` :math:`U = 1 - \langle m^4\rangle / (3\langle m^2\rangle^2)` (K. Binder,
  Z. Phys. B 43, 119 (1981), doi:10.1007/BF01293604), 2/3 in the ordered phase, 0 for a
  Gaussian :math:`m`.

Error bars: primary observables (means of one series) get
:func:`~qml_phys.classical.statistics.estimate`: the error from their own
:math:`\tau_\mathrm{int}` and R-hat across chains. Derived ones (``specific_heat``,
``susceptibility``, ``binder``) get a blocked, bias-corrected
:func:`~qml_phys.classical.statistics.jackknife` over the series they are built from,
with blocks at least 20 :math:`\tau_\mathrm{int}` long
(:func:`~qml_phys.classical.statistics.auto_n_blocks` from the largest
:math:`\tau_\mathrm{int}` of those series); their ``tau_int``, ``n_eff`` and ``rhat`` are
the largest of those series. ``susceptibility_m2`` is ``m2`` scaled by :math:`\beta N`.
"""

from __future__ import annotations

import math

import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int, check_temperature
from qml_phys.stats.estimate import Estimate
from qml_phys.stats.timeseries import (
    _as_chains,
    auto_n_blocks,
    estimate,
    jackknife,
)

__all__ = ["ising_observables", "observables_to_dict"]


def _derived(
    func, series: list[Estimate], arrays: list[np.ndarray], n_blocks, warn: bool = True
) -> Estimate:
    tau = max(s.tau_int for s in series)
    rhats = [s.rhat for s in series if not math.isnan(s.rhat)]
    rhat = max(rhats) if rhats else math.nan
    n_chains, n = arrays[0].shape
    nb = auto_n_blocks(n, tau, warn=warn) if n_blocks is None else n_blocks
    value, error = jackknife(func, *arrays, n_blocks=nb)
    return Estimate(value, error, tau, n_chains * n / (2.0 * tau), rhat)


def ising_observables(
    energy,
    magnetization,
    *,
    T: float,
    n_sites: int,
    c: float = 6.0,
    n_blocks: int | None = None,
    warn: bool = True,
) -> dict[str, Estimate]:
    r"""Thermodynamic observables of the Ising model with error bars (see module docstring).

    Args:
        energy: per-site energy series ``e = E/N``, shape ``(n,)`` or ``(n_chains, n)``.
        magnetization: per-site magnetization series ``m = M/N`` (so ``|m| <= 1``), same
            shape as ``energy``.
        T: temperature (``k_B = 1``, units of ``J``), > 0.
        n_sites: number of spins ``N``.
        c: Madras-Sokal window factor for every ``tau_int``.
        n_blocks: jackknife blocks per chain for the derived observables; default from the
            measured ``tau_int`` (:func:`~qml_phys.classical.statistics.auto_n_blocks`).
        warn: emit :class:`~qml_phys.classical.statistics.ShortSeriesWarning` where a
            ``tau_int`` is unreliable.

    Returns:
        ``{name: Estimate}`` for ``energy, m, abs_m, m2, m4, specific_heat,
        susceptibility, susceptibility_m2, binder``.
    """
    T = check_temperature(T)
    n_sites = check_positive_int("n_sites", n_sites)
    e = _as_chains(energy, "energy")
    m = _as_chains(magnetization, "magnetization")
    if e.shape != m.shape:
        raise ShapeError(
            f"expected energy and magnetization of the same shape; got {np.shape(energy)} "
            f"and {np.shape(magnetization)}"
        )
    max_m = float(np.max(np.abs(m)))
    if max_m > 1.0 + 1e-12:
        raise InvalidParameterError(
            f"expected per-site magnetization with |m| <= 1; got max |m| = {max_m:g} "
            f"(pass M / n_sites)"
        )
    beta, big_n = 1.0 / T, float(n_sites)
    abs_m, m2 = np.abs(m), m * m
    m4, e2 = m2 * m2, e * e

    out = {
        name: estimate(x, c=c, warn=warn)
        for name, x in (("energy", e), ("m", m), ("abs_m", abs_m), ("m2", m2), ("m4", m4))
    }
    est_e2 = estimate(e2, c=c, warn=warn)

    out["specific_heat"] = _derived(
        lambda a, b: beta**2 * big_n * (b - a * a), [out["energy"], est_e2], [e, e2], n_blocks, warn
    )
    out["susceptibility"] = _derived(
        lambda a, b: beta * big_n * (b - a * a),
        [out["abs_m"], out["m2"]],
        [abs_m, m2],
        n_blocks,
        warn,
    )
    s = out["m2"]
    out["susceptibility_m2"] = Estimate(
        beta * big_n * s.mean, beta * big_n * s.error, s.tau_int, s.n_eff, s.rhat
    )
    out["binder"] = _derived(
        lambda a, b: 1.0 - b / (3.0 * a * a), [out["m2"], out["m4"]], [m2, m4], n_blocks, warn
    )
    return out


_CORE = ("mean", "error", "tau_int", "n_eff", "rhat")


def observables_to_dict(result: dict[str, Estimate]) -> dict[str, dict[str, float | None]]:
    """Plain JSON-serialisable form of :func:`ising_observables` (or any ``{name: Estimate}``).

    ``{"energy": {"mean": .., "error": .., "tau_int": .., "n_eff": .., "rhat": ..}, ...}``
    with Python floats; non-finite values (e.g. ``rhat`` of a single chain) become ``None``
    so that ``json.dumps(..., allow_nan=False)`` accepts the result.
    """
    out = {}
    for name, est in result.items():
        if not isinstance(est, Estimate):
            raise InvalidParameterError(
                f"expected a dict of Estimate; got {type(est).__name__} for {name!r}"
            )
        out[str(name)] = {
            field: (float(v) if math.isfinite(float(v)) else None)
            for field, v in est._asdict().items()
            if v is not None or field in _CORE  # an interval only where there is one
        }
    return out
