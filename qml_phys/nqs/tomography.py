r"""Neural-network quantum state tomography from measurement samples.

In the spirit of QuCumber (Beach et al., SciPost Phys. 7, 009 (2019), arXiv:1812.09329)
and Torlai et al., Nat. Phys. 14, 447 (2018), arXiv:1703.05334: a network
``log psi(s) = lambda(s) / 2 + i mu(s) / 2`` is fitted by maximum likelihood to projective
measurements of an unknown state in several local Pauli bases.

* **Positive states** (e.g. TFIM ground states): computational-basis samples suffice; the
  phase network is dropped (``mu = 0``).
* **States with signs** (e.g. the Heisenberg ground state without a sign rule): samples in
  the Z basis fix ``|psi|``; bases with ``X`` or ``Y`` on pairs of neighbouring sites fix the
  relative phases.

A measurement in basis ``b`` (a string such as ``"XXZZ"``) rotates every site by
``U_X = H`` (Hadamard) or ``U_Y = H S^dag`` and measures ``Z``: outcome ``sigma`` has
probability ``|<sigma| U_b |psi>|^2``. Spins ``s = +1`` are ``|0>`` (the package
convention), and a state vector is indexed by the canonical basis of
:mod:`qml_phys.physics.models` (site 0 = most significant bit).

The likelihood is normalised by exact enumeration of all ``2^N`` configurations (the
networks are evaluated on every configuration at each step), which is exact and, up to
:data:`MAX_TOMOGRAPHY_SITES` sites, fast. Fidelities ``|<psi_exact|psi>|^2`` are
reported for ``N <= 12``; observables (energy, nearest-neighbour correlations) for all N.
Samples may come from an exact state vector (:func:`measure`) or from any other source, e.g.
the state of a PennyLane circuit (``qml.state()``) passed to :func:`measure`, or shot
samples (:func:`qml_phys.circuits.measure.measure_in_bases`).

Training goes through :func:`qml_phys.train.fit` (full batch: every sample at every step)
and every JAX/NetKet computation here runs under
:func:`qml_phys.runtime.precision.float64`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    TooLargeError,
    check_number,
    check_positive_int,
)
from qml_phys.nqs._config import iters_alias
from qml_phys.runtime.precision import float64
from qml_phys.runtime.results import Result, history_column, ran

#: Largest system reconstructed with exact normalisation.
MAX_TOMOGRAPHY_SITES = 16
#: Largest system for which fidelities against the exact state are reported.
MAX_FIDELITY_SITES = 12

_H = np.array([[1.0, 1.0], [1.0, -1.0]], dtype=np.complex128) / math.sqrt(2.0)
_SDG = np.diag([1.0, -1.0j]).astype(np.complex128)
ROTATIONS = {"Z": np.eye(2, dtype=np.complex128), "X": _H, "Y": _H @ _SDG}


def all_spins(n: int) -> np.ndarray:
    """All ``2^n`` configurations ``(2^n, n)`` int8 in {-1,+1}, canonical order."""
    if n > MAX_TOMOGRAPHY_SITES + 8:
        raise TooLargeError(
            f"all_spins: expected at most {MAX_TOMOGRAPHY_SITES + 8} sites; got {n}"
        )
    idx = np.arange(1 << n, dtype=np.int64)
    bits = (idx[:, None] >> np.arange(n - 1, -1, -1)) & 1
    return (1 - 2 * bits).astype(np.int8)


def _check_basis(basis: str, n: int) -> str:
    if len(basis) != n or any(c not in "XYZ" for c in basis):
        raise InvalidParameterError(
            f"basis: expected a string of {n} letters from X, Y, Z; got {basis!r}"
        )
    return basis


def rotate(psi, basis: str, xp=np):
    """``U_b psi`` for a state vector ``psi`` ``(2^N,)`` (numpy or jax.numpy via ``xp``)."""
    n = len(basis)
    t = xp.reshape(psi, (2,) * n)
    for i, c in enumerate(basis):
        if c != "Z":
            u = xp.asarray(ROTATIONS[c])
            t = xp.moveaxis(xp.tensordot(u, t, axes=([1], [i])), 0, i)
    return xp.reshape(t, (-1,))


def pair_bases(n: int, pbc: bool = True, include_y: bool = True) -> list[str]:
    """``Z...Z`` plus, for every neighbouring pair ``(i, i+1)``, ``XX`` (and ``XY``) there."""
    bases = ["Z" * n]
    last = n if pbc else n - 1
    for i in range(last):
        j = (i + 1) % n
        for pair in ("XX", "XY") if include_y else ("XX",):
            b = ["Z"] * n
            b[i], b[j] = pair[0], pair[1]
            bases.append("".join(b))
    return list(dict.fromkeys(bases))


def measure(psi, bases, n_samples: int, *, key) -> dict[str, np.ndarray]:
    """Projective measurements of the state vector ``psi`` ``(2^N,)`` in each basis.

    Returns ``{basis: spins}`` with spins ``(n_samples, N)`` int8 in {-1,+1}.
    """
    import jax

    psi = np.asarray(psi, dtype=np.complex128)
    n = int(round(math.log2(psi.shape[0]))) if psi.ndim == 1 and psi.shape[0] else -1
    if psi.ndim != 1 or (1 << max(n, 0)) != psi.shape[0] or n < 1:
        raise ShapeError(f"psi: expected a state vector of length 2^N; got shape {psi.shape}")
    check_positive_int("n_samples", n_samples)
    spins = all_spins(n)
    out = {}
    with float64():  # the same draws whatever JAX's global precision
        for b, k in zip(bases, jax.random.split(key, len(bases)), strict=True):
            p = np.abs(rotate(psi, _check_basis(b, n))) ** 2
            p = p / p.sum()
            idx = np.asarray(jax.random.choice(k, p.shape[0], (n_samples,), p=p))
            out[b] = spins[idx]
    return out


# --------------------------------------------------------------------------- model
def make_model(alpha: int = 1, phase: bool = True):
    """A Flax module ``log psi(s) = lambda(s)/2 + i mu(s)/2`` with RBM ``lambda`` and
    ``mu`` (real parameters); ``phase=False`` drops ``mu`` (positive states)."""
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    class AmplitudePhaseRBM(nn.Module):
        """Two real RBMs: amplitude ``lambda`` and phase ``mu`` (Torlai et al. 2018)."""

        alpha: int = 1
        """hidden units per site."""
        phase: bool = True
        """learn a phase network (False: positive state)."""

        @nn.compact
        def __call__(self, s):
            s = jnp.asarray(s, jnp.float64)
            n = s.shape[-1]

            def rbm(name):
                w = nn.Dense(
                    self.alpha * n,
                    name=f"{name}_hidden",
                    param_dtype=jnp.float64,
                    kernel_init=nn.initializers.normal(0.05),
                )(s)
                a = self.param(f"{name}_visible", nn.initializers.zeros, (n,), jnp.float64)
                return s @ a + jnp.sum(jnp.logaddexp(w, -w), axis=-1)

            lam = rbm("amp")
            if not self.phase:
                return 0.5 * lam
            return jax.lax.complex(0.5 * lam, 0.5 * rbm("phase"))

    return AmplitudePhaseRBM(alpha=alpha, phase=phase)


@dataclasses.dataclass(frozen=True)
class TomographyConfig:
    """Training settings of :func:`reconstruct` (full-batch Adam through
    :func:`qml_phys.train.fit`)."""

    alpha: int = 2
    """Hidden units per site of each RBM."""
    epochs: int = 2000
    """Full-batch Adam steps (one pass over all samples each)."""
    learning_rate: float = 0.05
    """Adam step size."""
    phase: bool | None = None
    """Learn a phase (None: only if a non-Z basis is given)."""
    bootstrap: int = 20
    """Bootstrap refits for the error bars (0: none, errors ``None``; otherwise at least
    2): each replicate resamples every basis's outcomes with replacement and trains a fresh
    network from its own initialisation, all replicates together (:func:`fit_counts`)."""

    def __post_init__(self):
        check_positive_int("alpha", self.alpha)
        check_positive_int("epochs", self.epochs)
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)
        if self.bootstrap != 0:
            check_positive_int("bootstrap", self.bootstrap, minimum=2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TomographyResult(Result):
    """Reconstructed state of :func:`reconstruct`. ``history["nll"]`` (also ``nll``): the
    negative log-likelihood per basis at every epoch, ``(epochs,)``."""

    module: Any
    """The Flax module ``log psi(s)`` (:func:`make_model`)."""
    params: Any
    """Its variables (``{"params": ...}``), as ``module.apply(params, spins)`` takes them."""
    psi: np.ndarray
    """The normalised state vector ``(2^N,)`` complex128, canonical basis order."""
    fidelity: float | None = None
    """``|<reference|psi>|^2`` with a reference state and ``N <=`` :data:`MAX_FIDELITY_SITES`."""
    fidelity_error: float | None = None
    """The standard deviation of the fidelity over repetitions of the experiment (new
    measurement data, new initialisation), from the ``config.bootstrap`` refits (each on
    resampled data from a fresh initialisation): the spread of their fidelities with their
    own centre (:func:`fidelity_spread`; no reference state needed). ``None`` without
    bootstrap or without a fidelity."""
    bootstrap_psi: np.ndarray | None = dataclasses.field(default=None, repr=False)
    """The bootstrap refits' normalised state vectors ``(bootstrap, 2^N)`` (``None``
    without bootstrap): the error of any function of the state is their spread."""

    nll = history_column("nll")
    """Negative log-likelihood per basis at every epoch, ``(epochs,)``."""

    reported = ("fidelity", "fidelity_error")

    def summary(self) -> dict:
        """Status, epochs, final negative log-likelihood and fidelity with its error."""
        return super().summary() | {
            "final_nll": float(self.nll[-1]) if len(self.nll) else None,
        }


def _normalised_log_psi(module, params, spins):
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp

    logpsi = jnp.asarray(module.apply(params, spins), jnp.complex128)
    log_norm = 0.5 * logsumexp(2.0 * jnp.real(logpsi))
    return logpsi - log_norm.astype(jnp.complex128)


def _train_config(config: TomographyConfig):
    """The trainer's settings of a reconstruction (and of every refit): full-batch Adam,
    one step per epoch, no validation split."""
    from qml_phys.train import TrainConfig

    return TrainConfig(
        epochs=config.epochs,
        learning_rate=config.learning_rate,
        optimizer="adam",
        steps_per_epoch=1,
        validation_fraction=0.0,
        label="tomography",
    )


def _bases_and_sites(data: Mapping, name: str, where: str) -> tuple[list[str], int]:
    """The bases of ``data`` and their number of sites, refusing none or too many."""
    bases = list(data)
    if not bases:
        raise InvalidParameterError(f"{name}: expected at least one basis; got none")
    n = len(bases[0])
    if n > MAX_TOMOGRAPHY_SITES:
        raise TooLargeError(
            f"{where}: exact normalisation needs N <= {MAX_TOMOGRAPHY_SITES}; got N = {n}"
        )
    return bases, n


def _log_probs(logpsi, basis: str):
    """``log |<sigma| U_b |psi>|^2`` of every outcome ``sigma`` for the normalised
    ``log psi`` ``(2^N,)`` (jax.numpy)."""
    import jax.numpy as jnp

    if set(basis) == {"Z"}:
        return 2.0 * jnp.real(logpsi)
    return jnp.log(jnp.abs(rotate(jnp.exp(logpsi), basis, xp=jnp)) ** 2 + 1e-300)


def reconstruct(
    samples: Mapping[str, np.ndarray],
    config: TomographyConfig | None = None,
    *,
    key,
    reference=None,
) -> TomographyResult:
    """Fit the network to ``samples`` (``{basis: (n, N) spins}``) by maximum likelihood.

    The loss, the mean over bases of ``-mean_samples log p_b(s)``, is evaluated on every
    sample at every step (full batch) and minimised by :func:`qml_phys.train.fit` (Adam,
    ``config.epochs`` steps), in float64.

    Args:
        samples: measurement outcomes per basis, e.g. from :func:`measure`.
        config: :class:`TomographyConfig`.
        key: JAX PRNG key (parameter initialisation and the training loop).
        reference: the exact state ``(2^N,)`` to report the fidelity against (optional).
    """
    config = config or TomographyConfig()
    bases, n = _bases_and_sites(samples, "samples", "reconstruct")
    # outcome -> index in the canonical basis of each sample
    weights = np.array([1 << (n - 1 - i) for i in range(n)], dtype=np.int64)
    outcomes = {}
    for b in bases:
        s = np.asarray(samples[_check_basis(b, n)])
        if s.ndim != 2 or s.shape[1] != n or not np.all(np.abs(s) == 1):
            raise ShapeError(f"samples[{b!r}]: expected (n, {n}) spins in {{-1,+1}}; got {s.shape}")
        outcomes[b] = ((1 - s) // 2).astype(np.int64) @ weights
    phase = config.phase if config.phase is not None else any(set(b) != {"Z"} for b in bases)
    _preflight(n, sum(len(o) for o in outcomes.values()), config)
    with float64():
        return _reconstruct(outcomes, config, make_model(config.alpha, phase), key, reference)


def outcome_counts(samples: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{basis: (2^N,) float64}``: how often each canonical outcome occurs in the spins
    ``(n, N)`` of every basis (the data as :func:`fit_counts` takes it, one row)."""
    out = {}
    for b, s in samples.items():
        s = np.asarray(s)
        n = len(b)
        if s.ndim != 2 or s.shape[1] != n or not np.all(np.abs(s) == 1):
            raise ShapeError(f"samples[{b!r}]: expected (n, {n}) spins in {{-1,+1}}; got {s.shape}")
        idx = ((1 - s) // 2).astype(np.int64) @ (1 << np.arange(n - 1, -1, -1))
        out[_check_basis(b, n)] = np.bincount(idx, minlength=1 << n).astype(np.float64)
    return out


def _reconstruct(outcomes, config, module, key, reference) -> TomographyResult:
    import jax
    import jax.numpy as jnp

    from qml_phys.train import fit

    bases = list(outcomes)
    n = len(bases[0])
    spins = jnp.asarray(all_spins(n), jnp.float64)
    idx = {b: jnp.asarray(v) for b, v in outcomes.items()}
    k_init, k_fit = jax.random.split(key)
    variables = module.init(k_init, spins[:1])

    def nll(params):
        logpsi = _normalised_log_psi(module, {**variables, "params": params}, spins)
        total = jnp.zeros((), jnp.float64)
        for b in bases:
            total = total - jnp.mean(_log_probs(logpsi, b)[idx[b]])
        return total / len(bases)

    def loss_fn(params, batch, *, key, model_state, train):
        return nll(params), ({}, model_state)

    fitted = fit(loss_fn, variables["params"], None, config=_train_config(config), key=k_fit)
    params = {**variables, "params": fitted.params}
    psi = np.asarray(jnp.exp(_normalised_log_psi(module, params, spins)))
    fid = fid_err = boot_psi = None
    if reference is not None and n <= MAX_FIDELITY_SITES:
        fid = fidelity(reference, psi)
    if config.bootstrap:
        # each replicate: every basis's outcomes resampled with replacement, a fresh
        # initialisation
        from qml_phys.stats.bootstrap import resample_counts

        k_boot, k_refit = jax.random.split(jax.random.fold_in(key, 1))
        replicas = {}
        for b, k in zip(bases, jax.random.split(k_boot, len(bases)), strict=True):
            o = np.asarray(outcomes[b])
            # multiplicity of every observation -> count of every outcome (no dense
            # (n_samples, 2^N) one-hot: 1 GB per basis at N = 16 and 2000 samples)
            mult = resample_counts(k, o.shape[0], config.bootstrap)
            replicas[b] = np.stack([np.bincount(o, weights=w, minlength=1 << n) for w in mult])
        boot_psi = _fit_counts(replicas, config, module, k_refit)[0]
        if fid is not None:
            fid_err = fidelity_spread(boot_psi)
    return TomographyResult(
        config=config,
        history={"nll": np.asarray(fitted.history["train_loss"], np.float64)},
        wall_time_s=fitted.wall_time_s,
        status=fitted.status,
        module=module,
        params=params,
        psi=psi,
        fidelity=fid,
        fidelity_error=fid_err,
        bootstrap_psi=boot_psi,
    )


def fit_counts(
    counts: Mapping[str, np.ndarray], config: TomographyConfig | None = None, *, key
) -> tuple[np.ndarray, np.ndarray]:
    """Reconstruct R data sets at once, each given as outcome counts per basis.

    ``counts`` maps every basis to ``(R, 2^N)`` counts of the canonical outcomes (from
    :func:`measure`'s spins, from a bootstrap, or multinomial draws of exact
    probabilities). Every data set gets its own network, initialised from its own key, and
    all R are trained together (``jax.vmap`` over one ``lax.scan`` of ``config.epochs``
    full-batch Adam steps, the optimiser of :func:`reconstruct`), in float64. This is how
    :func:`reconstruct` refits its bootstrap replicates, and how the spread of a
    reconstruction over independent experiments is measured.

    Returns ``(psi, nll)``: the normalised state vectors ``(R, 2^N)`` complex128 and each
    fit's final negative log-likelihood per basis ``(R,)``.
    """
    config = config or TomographyConfig()
    bases, n = _bases_and_sites(counts, "counts", "fit_counts")
    arrays = {_check_basis(b, n): np.asarray(counts[b], np.float64) for b in bases}
    shapes = {a.shape for a in arrays.values()}
    r = next(iter(arrays.values())).shape[0] if len(shapes) == 1 else -1
    if len(shapes) != 1 or next(iter(shapes)) != (r, 1 << n) or r < 1:
        raise ShapeError(
            f"counts: expected (R, {1 << n}) arrays, the same R for every basis; got "
            f"{sorted(shapes)}"
        )
    if any(np.any(a < 0) or np.any(a.sum(axis=1) <= 0) for a in arrays.values()):
        raise InvalidParameterError("counts: expected non-negative counts, each row > 0")
    phase = config.phase if config.phase is not None else any(set(b) != {"Z"} for b in bases)
    _preflight(n, 0, config, replicas=r)
    with float64():
        return _fit_counts(arrays, config, make_model(config.alpha, phase), key)


def _fit_counts(counts, config, module, key):
    """:func:`fit_counts` after its checks, under ``float64()``."""
    import jax
    import jax.numpy as jnp

    from qml_phys.train import make_optimizer

    bases = list(counts)
    n = len(bases[0])
    spins = jnp.asarray(all_spins(n), jnp.float64)
    c = {b: jnp.asarray(v, jnp.float64) for b, v in counts.items()}
    r = next(iter(c.values())).shape[0]
    opt = make_optimizer(_train_config(config), config.epochs)

    def nll(params, rest, cnt):
        logpsi = _normalised_log_psi(module, {**rest, "params": params}, spins)
        total = jnp.zeros((), jnp.float64)
        for b in bases:
            total = total - jnp.sum(cnt[b] * _log_probs(logpsi, b)) / jnp.sum(cnt[b])
        return total / len(bases)

    grad = jax.value_and_grad(nll)

    def one(k, cnt):
        # the same split as reconstruct: the first half initialises the network
        variables = module.init(jax.random.split(k)[0], spins[:1])
        rest = {name: v for name, v in variables.items() if name != "params"}

        def step(carry, _):
            params, state = carry
            loss, g = grad(params, rest, cnt)
            with jax.numpy_dtype_promotion("standard"):
                upd, state = opt.update(g, state, params)
                params = jax.tree_util.tree_map(lambda p, u: (p + u).astype(p.dtype), params, upd)
            return (params, state), loss

        params = variables["params"]
        with jax.numpy_dtype_promotion("standard"):
            state = opt.init(params)
        (params, _), _ = jax.lax.scan(step, (params, state), None, config.epochs)
        logpsi = _normalised_log_psi(module, {**rest, "params": params}, spins)
        return jnp.exp(logpsi), nll(params, rest, cnt)

    psi, final = jax.jit(jax.vmap(one))(jax.random.split(key, r), c)
    return np.asarray(psi, np.complex128), np.asarray(final, np.float64)


def fidelity_spread(states) -> float:
    """The standard deviation (``ddof=1``) of the fidelities of ``states`` ``(R, 2^N)``
    with their centre, the normalised mean of the states after aligning their global
    phases to the first one, times ``R / (R - 1)`` for the centre fitted to them.

    The bootstrap estimate of a fidelity's error: as the refits scatter about their centre,
    so do independent reconstructions about theirs. Measuring the refits against the
    reconstruction they came from instead counts its own offset from the centre again (the
    optimiser's scatter is most of the spread here), which made the error 1.4 times too
    large (docs/guide/calibration.md).
    """
    a = np.asarray(states, np.complex128)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ShapeError(f"states: expected (R, 2^N) with R >= 2; got shape {a.shape}")
    overlaps = a.conj() @ a[0]  # <psi_r|psi_0>: rotate each state onto the first's phase
    phases = np.where(np.abs(overlaps) > 0, overlaps / np.maximum(np.abs(overlaps), 1e-300), 1)
    centre = (a * phases[:, None]).sum(axis=0)
    # the centre is fitted to the R states, so they scatter about it by (1 - 1/R) of
    # their scatter about the true centre in every direction, and a fidelity, quadratic in
    # the deviation, by (1 - 1/R) as well: R / (R - 1) undoes it (as Bessel's correction)
    r = a.shape[0]
    return float(np.std([fidelity(centre, p) for p in a], ddof=1)) * r / (r - 1)


def fidelity(psi_a, psi_b) -> float:
    """``|<a|b>|^2 / (<a|a> <b|b>)`` of two state vectors."""
    a = np.asarray(psi_a, np.complex128)
    b = np.asarray(psi_b, np.complex128)
    if a.shape != b.shape:
        raise ShapeError(f"fidelity: expected vectors of equal shape; got {a.shape} and {b.shape}")
    return float(abs(np.vdot(a, b)) ** 2 / (np.vdot(a, a).real * np.vdot(b, b).real))


def energy(model, psi) -> float:
    """``<psi|H|psi> / <psi|psi>`` with the model's sparse matrix."""
    psi = np.asarray(psi, np.complex128)
    return float(np.real(np.vdot(psi, model.sparse_matrix() @ psi)) / np.vdot(psi, psi).real)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TomographyDemoResult(Result):
    """What :func:`tomography_demo` returns: the reconstruction of an exact ground state
    and how close it is. ``history["nll"]``: negative log-likelihood per epoch."""

    n_sites: int
    bases: tuple[str, ...]
    """The measured bases (``"ZZZZ"``, ``"XXZZ"``, ...)."""
    samples_per_basis: int
    fidelity: float | None
    """``|<psi_0|psi>|^2`` (None for ``N >`` :data:`MAX_FIDELITY_SITES`)."""
    fidelity_error: float | None
    """Its standard deviation over repetitions of the experiment, from the bootstrap refits
    (``config.bootstrap``; None without them)."""
    energy_reconstructed: float
    """``<psi|H|psi>`` of the reconstruction (model units)."""
    energy_reconstructed_error: float | None
    """Its standard deviation over repetitions of the experiment (bootstrap refits)."""
    energy_exact: float
    """The exact ground energy (Lanczos)."""
    relative_energy_error: float
    final_nll: float
    """Negative log-likelihood per basis after the last epoch."""
    reconstruction: TomographyResult = dataclasses.field(repr=False, compare=False)
    """The fit itself (module, parameters, state vector)."""

    reported = (
        "n_sites",
        "samples_per_basis",
        "fidelity",
        "fidelity_error",
        "energy_reconstructed",
        "energy_reconstructed_error",
        "energy_exact",
        "relative_energy_error",
        "final_nll",
    )

    def summary(self) -> dict:
        """The numbers above, with the status, timing and config."""
        return super().summary() | {
            "bases": list(self.bases),
        }


def _preflight(n: int, n_outcomes: int, config: TomographyConfig, replicas: int = 0) -> None:
    """Refuse a reconstruction whose full-batch loss (amplitudes of every outcome, the
    ``2^N`` normalisation, ``alpha * N`` hidden units per configuration) cannot fit; with
    ``replicas`` (or ``config.bootstrap``) networks trained together on counts."""
    from qml_phys.runtime.resources import check_memory

    hidden = config.alpha * n
    r = replicas or config.bootstrap
    check_memory(
        f"tomography of N = {n} with {n_outcomes} outcomes, alpha = {config.alpha} and {r} refits",
        16.0 * (n_outcomes + 2**n) * (n + hidden) * 3
        + 8.0 * n_outcomes * n
        + r * 16.0 * 2**n * (n + hidden) * 6,
    )


def tomography_demo(
    model, *, n_samples: int = 2000, config: TomographyConfig | None = None, key
) -> TomographyDemoResult:
    """Measure the exact ground state of ``model`` and reconstruct it (TFIM: Z basis only;
    Heisenberg: Z plus neighbouring XX/XY bases). ``n_samples`` per basis; ``key`` draws
    the measurements and trains the network."""
    import jax

    from qml_phys.physics import Heisenberg, exact

    config = config or TomographyConfig()
    n = model.n_sites
    if n > MAX_TOMOGRAPHY_SITES:
        raise TooLargeError(f"tomography: expected N <= {MAX_TOMOGRAPHY_SITES}; got N = {n}")
    check_positive_int("n_samples", n_samples)
    e0, vecs = exact.lanczos(model, return_vectors=True)
    psi0 = vecs[:, 0]
    signed = isinstance(model, Heisenberg)
    bases = (
        pair_bases(n, model.lattice.pbc and model.lattice.kind == "chain") if signed else ["Z" * n]
    )
    _preflight(n, n_samples * len(bases), config)
    k_meas, k_fit = jax.random.split(key)
    data = measure(psi0, bases, n_samples, key=k_meas)
    res = reconstruct(data, config, key=k_fit, reference=psi0)
    e_rec = energy(model, res.psi)
    e_err = None
    if res.bootstrap_psi is not None:
        e_err = float(np.std([energy(model, p) for p in res.bootstrap_psi], ddof=1))
    e_exact = float(e0[0])
    return TomographyDemoResult(
        **ran(config, res),
        n_sites=n,
        bases=tuple(bases),
        samples_per_basis=n_samples,
        fidelity=res.fidelity,
        fidelity_error=res.fidelity_error,
        energy_reconstructed=e_rec,
        energy_reconstructed_error=e_err,
        energy_exact=e_exact,
        relative_energy_error=abs(e_rec - e_exact) / abs(e_exact),
        final_nll=float(res.nll[-1]),
        reconstruction=res,
    )


def plot_training(ax, result):
    """Draw the negative log-likelihood per epoch of a :class:`TomographyResult` or
    :class:`TomographyDemoResult` on ``ax`` (titled with the fidelity); returns ``ax``."""
    ax.plot(result.history["nll"])
    ax.set(
        xlabel="epoch",
        ylabel="negative log-likelihood per basis",
        title=f"fidelity {result.fidelity:.4f}" if result.fidelity is not None else "",
    )
    return ax


# --------------------------------------------------------------------------- sampled
@iters_alias
@dataclasses.dataclass(frozen=True)
class SampledTomographyConfig:
    """Maximum-likelihood tomography of a positive state without enumeration (any N).

    ``iters`` (the name before ``n_steps``) is still accepted, with a DeprecationWarning.
    """

    alpha: int = 1
    """Hidden units per site of NetKet's RBM (its output is ``log psi``)."""
    n_steps: int = 1000
    """Adam steps."""
    learning_rate: float = 0.01
    """Adam step size (cosine decay to a tenth)."""
    batch_size: int = 1000
    """Data samples per step."""
    n_samples: int = 1024
    """Model samples per step (NetKet Metropolis, local flips)."""
    n_chains: int = 16
    """Markov chains."""

    def __post_init__(self):
        for name in ("alpha", "n_steps", "batch_size", "n_samples", "n_chains"):
            check_positive_int(name, getattr(self, name))
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SampledReconstruction(Result):
    """What :func:`reconstruct_sampled` returns. ``history["grad_norm"]``: the norm of the
    likelihood gradient at every step, ``(n_steps,)``."""

    vstate: Any = dataclasses.field(repr=False, compare=False)
    """NetKet's ``MCState`` with the fitted RBM (real float64 parameters)."""

    def summary(self) -> dict:
        """Status, steps and the final gradient norm."""
        g = self.history["grad_norm"]
        return super().summary() | {"final_grad_norm": float(g[-1]) if len(g) else None}


def reconstruct_sampled(
    samples_z: np.ndarray, config: SampledTomographyConfig | None = None, *, key
) -> SampledReconstruction:
    r"""Fit ``p(s) = |psi(s)|^2 = e^{2 Re log psi(s)} / Z`` to Z-basis samples of a positive
    state, for sizes beyond exact normalisation (QuCumber's positive-wavefunction method).

    The gradient of the negative log-likelihood is
    :math:`-\mathrm{E}_\mathrm{data}[\nabla 2\,\mathrm{Re}\log\psi] +
    \mathrm{E}_{|\psi|^2}[\nabla 2\,\mathrm{Re}\log\psi]`; the second term comes from a
    NetKet ``MCState`` sampled afresh at every step (in float64). The result holds the
    ``MCState`` (NetKet's RBM, real float64 parameters), so observables follow from
    ``result.vstate.expect(operator)`` with NetKet's error bars. Spins ``(n, N)`` in
    {-1,+1}, ``+1 = |0>``.
    """
    config = config or SampledTomographyConfig()
    s = np.asarray(samples_z)
    if s.ndim != 2 or not np.all(np.abs(s) == 1):
        raise ShapeError(f"samples_z: expected (n, N) spins in {{-1,+1}}; got shape {s.shape}")
    with float64():
        return _reconstruct_sampled(s, config, key)


def _reconstruct_sampled(s, config: SampledTomographyConfig, key) -> SampledReconstruction:
    import time

    import jax
    import jax.numpy as jnp
    import netket as nk
    import optax

    t0 = time.perf_counter()
    n_data, n = s.shape
    batch = min(config.batch_size, n_data)
    hilbert = nk.hilbert.Spin(0.5, n)
    k_init, k_batch = jax.random.split(key)
    seeds = [int(x) for x in jax.random.randint(k_init, (2,), 0, 2**30)]
    vstate = nk.vqs.MCState(
        nk.sampler.MetropolisLocal(hilbert, n_chains=config.n_chains),
        nk.models.RBM(alpha=config.alpha, param_dtype=jnp.float64),
        n_samples=config.n_samples,
        seed=seeds[0],
        sampler_seed=seeds[1],
    )
    apply = vstate.model.apply
    model_state = vstate.model_state
    data = jnp.asarray(s, jnp.float64)

    def surrogate(params, x_data, x_model):
        lam = lambda x: 2.0 * jnp.real(apply({"params": params, **model_state}, x))
        return -jnp.mean(lam(x_data)) + jnp.mean(lam(x_model))

    schedule = optax.cosine_decay_schedule(config.learning_rate, config.n_steps, alpha=0.1)
    opt = optax.adam(schedule)

    @jax.jit
    def step(params, opt_state, x_data, x_model):
        g = jax.grad(surrogate)(params, x_data, x_model)
        upd, opt_state = opt.update(g, opt_state, params)
        new = jax.tree.map(lambda p, u: (p + u).astype(p.dtype), params, upd)
        norm = jnp.sqrt(sum(jnp.sum(x * x) for x in jax.tree.leaves(g)))
        return new, opt_state, norm

    params = vstate.parameters
    opt_state = opt.init(params)
    grad_norms = []
    for i in range(config.n_steps):
        idx = jax.random.randint(jax.random.fold_in(k_batch, i), (batch,), 0, n_data)
        x_model = vstate.sample().reshape(-1, n)
        params, opt_state, gn = step(params, opt_state, data[idx], x_model)
        vstate.parameters = params
        grad_norms.append(float(gn))
    return SampledReconstruction(
        config=config,
        history={"grad_norm": np.asarray(grad_norms, np.float64)},
        wall_time_s=time.perf_counter() - t0,
        vstate=vstate,
    )


def _pauli_pair(n: int, pauli: str, i: int, j: int) -> str:
    chars = ["I"] * n
    chars[i], chars[j] = pauli, pauli
    return "".join(chars)


class Observable(NamedTuple):
    """A reconstructed expectation value against the exact one."""

    reconstructed: float
    """NetKet's Monte Carlo estimate from the fitted state."""
    error: float
    """Its standard error."""
    exact: float
    """The value in the exact ground state."""
    z: float
    """``(reconstructed - exact) / error``."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SampledTomographyResult(Result):
    """What :func:`sampled_tomography_demo` returns. ``history["grad_norm"]``: the
    likelihood-gradient norm per step."""

    n_sites: int
    samples: int
    """Z-basis samples of the data."""
    observables: Mapping[str, Observable]
    """``"energy"``, ``"zz_01"``, ``"xx_01"`` -> :class:`Observable`."""
    relative_energy_error: float
    fidelity: float | None
    """``|<psi_0|psi>|^2`` (None for ``N >`` :data:`MAX_FIDELITY_SITES`)."""
    final_grad_norm: float
    vstate: Any = dataclasses.field(default=None, repr=False, compare=False)
    """NetKet's ``MCState`` with the fitted RBM."""

    reported = ("n_sites", "samples", "relative_energy_error", "fidelity", "final_grad_norm")

    def summary(self) -> dict:
        """The numbers above, with the status, timing and config."""
        return super().summary() | {
            "observables": {k: v._asdict() for k, v in self.observables.items()},
        }


def sampled_tomography_demo(
    model,
    *,
    n_samples: int = 20000,
    config: SampledTomographyConfig | None = None,
    key,
    eval_samples: int = 16384,
) -> SampledTomographyResult:
    """Measure the exact ground state of a TFIM ``model`` (positive) in the Z basis, fit
    with :func:`reconstruct_sampled`, and compare observables with the exact state: the
    energy (``<H>`` with NetKet's error bar against the exact ground energy) and the
    nearest-neighbour correlations ``<Z_0 Z_1>`` and ``<X_0 X_1>`` (the latter is not in
    the Z-basis data at all: it tests the learned amplitudes between configurations).
    Fidelity is added for ``N <= 12``. ``eval_samples``: samples of each estimate.
    """
    import jax

    from qml_phys.physics import TransverseFieldIsing, exact

    if not isinstance(model, TransverseFieldIsing):
        raise InvalidParameterError(
            "sampled tomography: expected a TransverseFieldIsing model (a positive ground "
            f"state, so that Z-basis samples determine it); got {type(model).__name__}"
        )
    config = config or SampledTomographyConfig()
    n = model.n_sites
    if n > MAX_TOMOGRAPHY_SITES + 8:
        raise TooLargeError(
            f"sampled tomography: the exact reference state needs N <= "
            f"{MAX_TOMOGRAPHY_SITES + 8}; got N = {n}"
        )
    e0, vecs = exact.lanczos(model, return_vectors=True)
    psi0 = vecs[:, 0]
    from qml_phys.runtime.resources import check_memory

    check_memory(f"{n_samples} measurements of {n} qubits", 8.0 * n_samples * n)
    k_meas, k_fit = jax.random.split(key)
    data = measure(psi0, ["Z" * n], n_samples, key=k_meas)["Z" * n]
    fit = reconstruct_sampled(data, config, key=k_fit)
    with float64():
        rows, fid = _observables(model, fit.vstate, psi0, float(e0[0]), eval_samples)
    g = fit.history["grad_norm"]
    return SampledTomographyResult(
        **ran(config, fit),
        n_sites=n,
        samples=n_samples,
        observables=rows,
        relative_energy_error=abs(rows["energy"].reconstructed - rows["energy"].exact)
        / abs(rows["energy"].exact),
        fidelity=fid,
        final_grad_norm=float(g[-1]),
        vstate=fit.vstate,
    )


def _observables(model, vstate, psi0, e_exact: float, eval_samples: int):
    """``({name: Observable}, fidelity or None)`` of the fitted ``vstate``."""
    import netket as nk

    n = model.n_sites
    vstate.n_samples = eval_samples
    hilbert = vstate.hilbert
    ops = {
        "energy": model.to_netket(hilbert),
        "zz_01": nk.operator.PauliStrings(hilbert, [_pauli_pair(n, "Z", 0, 1)], [1.0]),
        "xx_01": nk.operator.PauliStrings(hilbert, [_pauli_pair(n, "X", 0, 1)], [1.0]),
    }
    exact_values = {
        "energy": e_exact,
        "zz_01": float(np.real(np.vdot(psi0, ops["zz_01"].to_sparse() @ psi0))),
        "xx_01": float(np.real(np.vdot(psi0, ops["xx_01"].to_sparse() @ psi0))),
    }
    rows = {}
    for name, op in ops.items():
        st = vstate.expect(op)
        mean, err = float(np.real(st.mean)), float(st.error_of_mean)
        ref = exact_values[name]
        rows[name] = Observable(mean, err, ref, (mean - ref) / err if err > 0 else math.inf)
    fid = fidelity(psi0, vstate.to_array()) if n <= MAX_FIDELITY_SITES else None
    return rows, fid
