r"""How good is a generative model of Ising configurations?

Three yardsticks, from strongest to weakest:

* :func:`exact_kl` - :math:`\mathrm{KL}(p_\mathrm{B}\,\|\,q) = \sum_s p_\mathrm{B}(s)
  [\ln p_\mathrm{B}(s) - \ln q(s)]` in nats, by enumerating all :math:`2^N` states of the
  :math:`L\times L` torus (``N = L*L <= 20``), with :math:`p_\mathrm{B} = e^{-\beta E}/Z`
  the Boltzmann distribution and ``q`` the model (must be normalised);
* :func:`sample_observables` - energy per site, :math:`\langle|m|\rangle` and specific heat
  per site of generated samples with error bars;
* :func:`compare_with_reference` - each of those against Monte Carlo reference samples, as
  a difference in units of the combined error (a z-score), plus Kolmogorov-Smirnov
  two-sample tests on the :math:`|m|` and energy distributions.

Conventions: spins are ``(n, L, L)`` (or ``(n, N)`` for :func:`exact_kl`'s flat mode) in
{-1,+1}; site ``i = r * L + c`` in the flat layout (row-major, as ``reshape`` gives);
``E = -J sum_<ij> s_i s_j`` over the nearest-neighbour bonds of the periodic lattice, each
bond once (for ``L = 2`` the two bonds between a pair are both counted, as in
:mod:`qml_phys.classical.datasets`). Temperatures in units of ``J``, ``k_B = 1``.

References: the KL and observable comparisons follow the evaluation of generative Ising
models in G. Torlai and R. G. Melko, PRB 94, 165134 (2016), arXiv:1606.02718, and D. Wu,
L. Wang, P. Zhang, PRL 122, 080602 (2019), arXiv:1809.10606.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.special
import scipy.stats

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    TooLargeError,
    check_positive_int,
    check_temperature,
)
from qml_phys.stats import Estimate, estimate, jackknife

__all__ = [
    "MAX_KL_SITES",
    "boltzmann_log_prob",
    "check_spins",
    "compare_with_reference",
    "exact_kl",
    "ising_energy",
    "lattice_states",
    "sample_observables",
]

MAX_KL_SITES = 20
"""Largest ``N = L*L`` that :func:`exact_kl` enumerates (2^20 states)."""

_CHUNK = 1 << 15  # states per call of the model in exact_kl


def _is_tracer(x) -> bool:
    try:
        import jax

        return isinstance(x, jax.core.Tracer)
    except ImportError:  # pragma: no cover - jax is a dependency
        return False


def check_spins(s, *, shape: tuple[int, ...] | None = None, name: str = "spins"):
    """Validate a batch of Ising configurations and return it unchanged.

    Args:
        s: numpy or JAX array of any dtype whose values are all -1 or +1.
        shape: expected trailing shape, e.g. ``(L, L)`` or ``(N,)``; the array must have at
            least one more (batch) axis in front. ``None`` checks only the values.
        name: the name used in error messages.

    Returns:
        ``s`` itself (same type, dtype and shape).

    Raises:
        ShapeError: not array-like, complex, or the trailing shape differs from ``shape``.
        InvalidParameterError: a value other than -1 or +1 (including NaN), e.g.
            ``expected spins in {-1,+1}; got values {0, 1}``.

    Inside ``jit`` (a tracer) only the shape can be checked.
    """
    if not hasattr(s, "shape") or not hasattr(s, "dtype"):
        try:
            s = np.asarray(s)
        except Exception as exc:  # noqa: BLE001
            raise ShapeError(f"expected an array of {name}; got {type(s).__name__}") from exc
    if np.issubdtype(np.dtype(s.dtype), np.complexfloating):
        raise ShapeError(f"expected real {name} in {{-1,+1}}; got dtype {s.dtype}")
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        k = len(shape)
        if s.ndim < k + 1 or tuple(s.shape[s.ndim - k :]) != shape:
            raise ShapeError(
                f"expected {name} of shape (n, {', '.join(map(str, shape))})"
                f"{' (batch, lattice)' if k else ''}; got shape {tuple(s.shape)}"
            )
    if _is_tracer(s):
        return s
    a = np.asarray(s)
    bad = (a != 1) & (a != -1)
    if np.any(bad):
        vals = np.unique(a)  # every distinct value present, as the message promises
        shown = ", ".join(
            f"{v:g}" if isinstance(v, float | np.floating) else str(v) for v in vals[:6]
        )
        more = ", ..." if vals.size > 6 else ""
        raise InvalidParameterError(
            f"expected {name} in {{-1,+1}}; got values {{{shown}{more}}} "
            f"(convert {{0,1}} bits with s = 2*b - 1)"
        )
    return s


def _lattice_spins(spins, name: str = "spins") -> np.ndarray:
    a = np.asarray(spins)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[1] < 2:
        raise ShapeError(f"expected {name} of shape (n, L, L) with L >= 2; got shape {a.shape}")
    if a.shape[0] < 2:
        raise InvalidParameterError(
            f"expected at least 2 configurations in {name}; got {a.shape[0]}"
        )
    check_spins(a, name=name)
    return a.astype(np.float64)


def ising_energy(spins, J: float = 1.0) -> np.ndarray:
    """Total energy ``E = -J sum_<ij> s_i s_j`` of ``(..., L, L)`` periodic configurations.

    Returns a float64 numpy array of shape ``spins.shape[:-2]``.
    """
    s = np.asarray(spins, dtype=np.float64)
    bonds = s * np.roll(s, -1, axis=-1) + s * np.roll(s, -1, axis=-2)
    return -float(J) * bonds.sum(axis=(-1, -2))


def boltzmann_log_weight(T: float, J: float = 1.0):
    """``s -> -E(s) / T`` for ``(n, L, L)`` periodic configurations, in JAX (jit-able; the
    ``log_target`` of :func:`qml_phys.generative.base.independence_metropolis`)."""
    import jax.numpy as jnp

    beta_j = float(J) / check_temperature(T)

    def log_weight(s):
        s = jnp.asarray(s, jnp.float32)
        return beta_j * jnp.sum(s * jnp.roll(s, -1, -1) + s * jnp.roll(s, -1, -2), axis=(-2, -1))

    return log_weight


def lattice_states(L: int) -> np.ndarray:
    """All ``2**(L*L)`` configurations of the ``L x L`` lattice, ``(2**N, L, L)`` int8.

    Canonical order of :func:`qml_phys.physics.models.basis_states` (row 0 all +1; row 1
    flips the last site), site ``i = r * L + c``.
    """
    L = check_positive_int("L", L, minimum=2)
    n = L * L
    if n > MAX_KL_SITES:
        raise TooLargeError(f"expected L*L <= {MAX_KL_SITES} sites to enumerate; got L={L} ({n})")
    b = np.arange(1 << n, dtype=np.int64)
    bits = (b[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)[None, :]) & 1
    return (1 - 2 * bits).astype(np.int8).reshape(-1, L, L)


def boltzmann_log_prob(L: int, T: float, J: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Exact Boltzmann log-probabilities of every state of the ``L x L`` torus.

    Returns:
        ``(states, log_p)``: ``(2**N, L, L)`` int8 states (order of :func:`lattice_states`)
        and ``(2**N,)`` float64 ``ln p(s) = -E(s)/T - ln Z``.
    """
    T = check_temperature(T)
    states = lattice_states(L)
    lw = -ising_energy(states, J) / T
    return states, lw - scipy.special.logsumexp(lw)


def exact_kl(
    log_prob_fn: Callable,
    L: int,
    T: float,
    J: float = 1.0,
    *,
    flat: bool = False,
    dtype=np.float32,
    normalisation_atol: float = 1e-3,
) -> float:
    r"""Exact :math:`\mathrm{KL}(p_\mathrm{Boltzmann}\,\|\,p_\mathrm{model})` in nats.

    Enumerates all :math:`2^{L^2}` states of the periodic ``L x L`` Ising model at
    temperature ``T`` and evaluates the model on them in chunks of 32768.

    Args:
        log_prob_fn: maps a batch of spins, ``(n, L, L)`` (or ``(n, L*L)`` with
            ``flat=True``) of ``dtype`` in {-1,+1}, to ``(n,)`` normalised
            log-probabilities (numpy or JAX).
        L: linear size, ``L*L <= 20`` (TooLargeError otherwise).
        T: temperature (units of ``J``), > 0.
        J: coupling.
        flat: pass ``(n, L*L)`` instead of ``(n, L, L)``.
        dtype: dtype of the spins handed to the model.
        normalisation_atol: the model's total probability must satisfy
            ``|ln sum_s q(s)| <= normalisation_atol``; InvalidParameterError otherwise (an
            unnormalised model has no meaningful KL).

    Returns:
        The KL divergence, >= 0 up to rounding (float).
    """
    L = check_positive_int("L", L, minimum=2)
    if L * L > MAX_KL_SITES:
        raise TooLargeError(
            f"exact_kl enumerates 2^(L*L) states: expected L*L <= {MAX_KL_SITES}; got L={L} "
            f"({L * L} sites); use compare_with_reference for larger lattices"
        )
    states, log_p = boltzmann_log_prob(L, T, J)
    x = states.reshape(states.shape[0], -1) if flat else states
    log_q = np.empty(states.shape[0], dtype=np.float64)
    for i in range(0, states.shape[0], _CHUNK):
        out = np.asarray(log_prob_fn(x[i : i + _CHUNK].astype(dtype)), dtype=np.float64)
        n_chunk = min(_CHUNK, states.shape[0] - i)
        if out.shape != (n_chunk,):
            raise ShapeError(
                f"expected log_prob_fn to return shape ({n_chunk},); got shape {out.shape}"
            )
        log_q[i : i + n_chunk] = out
    if np.any(np.isnan(log_q)) or np.any(log_q == np.inf):
        raise InvalidParameterError(
            "expected finite log-probabilities from log_prob_fn; got nan/inf"
        )
    total = float(scipy.special.logsumexp(log_q))
    if abs(total) > normalisation_atol:
        raise InvalidParameterError(
            f"expected a normalised model (ln sum_s q(s) = 0 within {normalisation_atol:g}); "
            f"got {total:.6g}"
        )
    p = np.exp(log_p)
    return float(np.sum(p * (log_p - log_q)))


def _independent_estimate(x: np.ndarray) -> Estimate:
    n = x.size
    sd = float(np.std(x, ddof=1))
    return Estimate(float(x.mean()), sd / math.sqrt(n), 0.5, float(n), math.nan)


def sample_observables(
    spins, *, T: float, J: float = 1.0, independent: bool = True
) -> dict[str, Estimate]:
    r"""Energy per site, :math:`\langle|m|\rangle` and specific heat per site of samples.

    Args:
        spins: ``(n, L, L)`` configurations in {-1,+1}, ``n >= 2``.
        T: temperature (units of ``J``), > 0 (enters the specific heat).
        J: coupling.
        independent: the samples are independent draws - true for the exact samplers of
            autoregressive models, for an RBM run long between samples, and (to a good
            approximation) for datasets thinned by ``2 tau_int``. Errors are then
            ``std / sqrt(n)`` and ``tau_int = 1/2``. With ``False`` the samples are treated
            as one Markov chain in sampling order and the error comes from its measured
            ``tau_int`` (:func:`~qml_phys.classical.statistics.estimate`).

    Returns:
        ``{"energy", "abs_m", "specific_heat"}`` -> :class:`Estimate`; the specific heat
        :math:`c = \beta^2 N(\langle e^2\rangle - \langle e\rangle^2)` gets a bias-corrected
        jackknife error (up to 200 blocks).
    """
    T = check_temperature(T)
    s = _lattice_spins(spins)
    n_sites = s.shape[1] * s.shape[2]
    e = ising_energy(s, J) / n_sites
    abs_m = np.abs(s.sum(axis=(1, 2))) / n_sites
    beta = 1.0 / T
    if independent:
        est_e, est_m = _independent_estimate(e), _independent_estimate(abs_m)
        tau = 0.5
    else:
        est_e, est_m = estimate(e, warn=False), estimate(abs_m, warn=False)
        tau = max(est_e.tau_int, est_m.tau_int)
    n = e.size
    n_blocks = min(n, 200) if independent else max(2, min(200, int(n / (20.0 * tau))))
    c_val, c_err = jackknife(
        lambda a, b: beta**2 * n_sites * (b - a * a), e, e * e, n_blocks=n_blocks
    )
    c_est = Estimate(c_val, c_err, est_e.tau_int, est_e.n_eff, math.nan)
    return {"energy": est_e, "abs_m": est_m, "specific_heat": c_est}


def _est_dict(x: Estimate) -> dict[str, float]:
    return {"mean": float(x.mean), "error": float(x.error)}


def compare_with_reference(
    samples,
    reference,
    *,
    T: float,
    J: float = 1.0,
    independent: bool = True,
) -> dict:
    r"""Observables of model samples against Monte Carlo reference samples.

    Args:
        samples: ``(n, L, L)`` model samples in {-1,+1}.
        reference: ``(n_ref, L, L)`` reference samples (same ``L``), e.g. a
            :func:`~qml_phys.classical.datasets.load_dataset` slice at one temperature.
        T, J: temperature and coupling.
        independent: see :func:`sample_observables` (applies to both sets).

    Returns:
        A JSON-ready dict::

            {"L", "T", "n_samples", "n_reference",
             "observables": {name: {"model": {mean, error}, "reference": {mean, error},
                                    "difference", "z"}},   # energy, abs_m, specific_heat
             "max_abs_z",
             "ks_abs_m": {"statistic", "pvalue"},  # scipy.stats.ks_2samp on |m|
             "ks_energy": {"statistic", "pvalue"},
             "exact": {name: {"value", "z_model", "z_reference"}}}  # energy, specific_heat

        ``exact`` holds Kaufman's finite-torus values (:func:`qml_phys.physics.exact.kaufman`)
        for a ferromagnetic ``J > 0`` on a square lattice, with each set's own z-score
        against them (``None`` otherwise): an independent check of both sets.

        ``z = (model - reference) / sqrt(err_model^2 + err_reference^2)``; ``|z| < 2`` is
        agreement at two standard errors. The KS p-value is approximate for the discrete
        ``|m|`` and energy values (ties make it conservative).
    """
    s = _lattice_spins(samples, "samples")
    r = _lattice_spins(reference, "reference")
    if s.shape[1:] != r.shape[1:]:
        raise ShapeError(
            f"expected samples and reference on the same lattice; got {s.shape[1:]} and "
            f"{r.shape[1:]}"
        )
    obs_s = sample_observables(s, T=T, J=J, independent=independent)
    obs_r = sample_observables(r, T=T, J=J, independent=independent)
    out: dict = {}
    max_z = 0.0
    for name in obs_s:
        a, b = obs_s[name], obs_r[name]
        diff = a.mean - b.mean
        err = math.hypot(a.error, b.error)
        z = diff / err if err > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
        max_z = max(max_z, abs(z))
        out[name] = {"model": _est_dict(a), "reference": _est_dict(b), "difference": diff, "z": z}
    n_sites = s.shape[1] * s.shape[2]
    ks = {}
    for key, f in (
        ("ks_abs_m", lambda x: np.abs(x.sum(axis=(1, 2))) / n_sites),
        ("ks_energy", lambda x: ising_energy(x, J) / n_sites),
    ):
        res = scipy.stats.ks_2samp(f(s), f(r))
        ks[key] = {"statistic": float(res.statistic), "pvalue": float(res.pvalue)}
    return {
        "L": int(s.shape[1]),
        "T": float(T),
        "n_samples": int(s.shape[0]),
        "n_reference": int(r.shape[0]),
        "observables": out,
        "max_abs_z": max_z,
        **ks,
        "exact": _exact_comparison(s.shape[1:], T, J, out),
    }


def _exact_comparison(shape, T: float, J: float, observables: dict) -> dict | None:
    """Kaufman's energy and specific heat per site of the torus against both sets."""
    if J <= 0 or shape[0] != shape[1]:
        return None
    from qml_phys.physics.exact import kaufman

    th = kaufman(int(shape[0]), float(T), float(J))
    out = {}
    for name, value in (
        ("energy", float(th.energy_per_site)),
        ("specific_heat", float(th.specific_heat_per_site)),
    ):
        row = {"value": value}
        for side in ("model", "reference"):
            est = observables[name][side]
            row[f"z_{side}"] = (est["mean"] - value) / est["error"] if est["error"] > 0 else None
        out[name] = row
    return out


def compare_at(samples, reference, T: float) -> dict:
    """:func:`~qml_phys.generative.evaluate.compare_with_reference` plus the ±m symmetry:
    the fraction of samples with m > 0 (0.5 for the symmetric Boltzmann distribution) and
    its z-score; ``mode_collapse`` when below T_c the samples sit on one sign (z > 5)."""
    from qml_phys.physics.exact import onsager_tc

    out = compare_with_reference(samples, reference, T=T)
    m = np.asarray(samples, np.float64).mean(axis=(1, 2))
    nz = m[m != 0]
    frac = float(np.mean(nz > 0)) if nz.size else 0.5
    z = (frac - 0.5) / (0.5 / math.sqrt(max(nz.size, 1)))
    out["fraction_m_positive"] = frac
    out["symmetry_z"] = float(z)
    out["mode_collapse"] = bool(T < onsager_tc() and abs(z) > 5)
    out["energy_within_3_sigma"] = bool(abs(out["observables"]["energy"]["z"]) < 3)
    return out
