r"""The classical side feeds the quantum side: warm-start an NQS from a generative model.

A generative model over spins is a Flax module returning ``log p(s)`` (up to a constant)
for spins ``(..., N)`` in {-1, +1}. For a positive (stoquastic) ground state
``psi(s) = sqrt(p(s))``, so the same module *is* a neural quantum state with
``log psi(s) = log p(s) / 2`` (:class:`LogPsiFromLogProb`); its trained parameters are a
warm start for variational Monte Carlo (compare the pre-training of Torlai et al., Nat.
Phys. 14, 447 (2018), arXiv:1703.05334, and the transfer learning of Zen et al., PRE 101,
053301 (2020), arXiv:1908.09883).

:func:`fit_log_prob` trains any such module by maximum likelihood on measurement samples,
with the normalisation ``log Z = logsumexp_s log p(s)`` computed by exact enumeration of
all ``2^N`` configurations (``N <= 16``; exact gradients, no contrastive-divergence bias).
:class:`SpinRBM` is the default generative model, ``log p(s) = a.s + sum_j log cosh(W s +
b)_j`` (the same function as ``nk.models.RBM``); the package's generative models (RBM,
MADE, ... with ``log_prob``) plug in through the same two functions.

:func:`warm_start_comparison` measures the effect: iterations of SR to reach a relative
energy error ``target`` from the warm start and from a random start, same ansatz, same
budget, several repetitions (one PRNG key each).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, TooLargeError, check_positive_int
from qml_phys.nqs._config import iters_alias
from qml_phys.runtime.precision import float64
from qml_phys.runtime.results import Result


class SpinRBM(nn.Module):
    """Unnormalised RBM log-probability ``log p(s) = a.s + sum_j log cosh(W s + b)_j``."""

    alpha: int = 1
    """hidden units per visible spin."""
    init_scale: float = 0.05
    """standard deviation of the initial weights."""

    @nn.compact
    def __call__(self, s):
        s = jnp.asarray(s, jnp.float64)
        n = s.shape[-1]
        h = nn.Dense(
            self.alpha * n,
            param_dtype=jnp.float64,
            kernel_init=nn.initializers.normal(self.init_scale),
            bias_init=nn.initializers.normal(self.init_scale),
        )(s)
        a = self.param("visible_bias", nn.initializers.normal(self.init_scale), (n,), jnp.float64)
        return s @ a + jnp.sum(jnp.logaddexp(h, -h) - jnp.log(2.0), axis=-1)


class LogPsiFromLogProb(nn.Module):
    """Adapter: a ``log p(s)`` module as a NetKet log-amplitude, ``log psi = log p / 2``."""

    log_prob: nn.Module
    """any Flax module returning ``log p(s)`` (up to a constant) of shape ``(...)``."""

    def __call__(self, s):
        return 0.5 * self.log_prob(s)


def as_log_psi(module: nn.Module, variables: dict) -> tuple[LogPsiFromLogProb, dict]:
    """The NQS module and its parameters (``{"params": {"log_prob": ...}}``) from a trained
    ``log p`` module and its variables (``{"params": ...}``)."""
    if "params" not in variables:
        raise InvalidParameterError(
            f"variables: expected a Flax variables dict with 'params'; got keys {list(variables)}"
        )
    return LogPsiFromLogProb(module), {"log_prob": variables["params"]}


def fit_log_prob(
    module: nn.Module,
    samples,
    *,
    key,
    epochs: int = 400,
    learning_rate: float = 0.02,
) -> tuple[dict, np.ndarray]:
    r"""Maximum likelihood of ``module`` (``log p``) on ``samples`` ``(n, N)`` in {-1,+1}.

    The loss ``-mean_data log p(s) + logsumexp_all log p(s)`` is exact (enumeration of all
    ``2^N`` states, ``N <= 16``); full-batch Adam (every sample at every step) for
    ``epochs`` steps through :func:`qml_phys.train.fit`, in float64.

    Returns:
        ``(variables, nll)``: trained variables and the negative log-likelihood per epoch
        ``(epochs,)`` (before that epoch's update).
    """
    from jax.scipy.special import logsumexp

    from qml_phys.nqs.tomography import all_spins
    from qml_phys.train import TrainConfig, fit

    s = np.asarray(samples)
    if s.ndim != 2 or not np.all(np.abs(s) == 1):
        raise InvalidParameterError(
            f"samples: expected (n, N) spins in {{-1,+1}}; got shape {s.shape}"
        )
    n = s.shape[1]
    if n > 16:
        raise TooLargeError(f"fit_log_prob: exact normalisation needs N <= 16; got N = {n}")
    check_positive_int("epochs", epochs)
    config = TrainConfig(
        epochs=epochs,
        learning_rate=learning_rate,
        optimizer="adam",
        steps_per_epoch=1,
        validation_fraction=0.0,
        label="fit_log_prob",
    )
    k_init, k_fit = jax.random.split(key)
    with float64():
        data = jnp.asarray(s, jnp.float64)
        every = jnp.asarray(all_spins(n), jnp.float64)
        variables = module.init(k_init, data[:1])

        def loss_fn(params, batch, *, key, model_state, train):
            v = {**variables, "params": params}
            nll = -jnp.mean(module.apply(v, data)) + logsumexp(module.apply(v, every))
            return nll, ({}, model_state)

        result = fit(loss_fn, variables["params"], None, config=config, key=k_fit)
    return {**variables, "params": result.params}, np.asarray(result.history["train_loss"])


def iterations_to(log_energy, exact: float, target: float, window: int = 5) -> int | None:
    """First iteration at which the running mean (``window``) of the energy is within
    relative error ``target`` of ``exact``; None if never."""
    e = np.asarray(log_energy, np.float64)
    if len(e) < window:
        return None
    run = np.convolve(e, np.ones(window) / window, mode="valid")
    ok = np.nonzero(np.abs(run - exact) / abs(exact) <= target)[0]
    return int(ok[0]) + window - 1 if len(ok) else None


@iters_alias
@dataclasses.dataclass(frozen=True)
class WarmStartConfig:
    """Settings of :func:`warm_start_comparison`.

    ``iters`` (the name before ``n_steps``) is still accepted, with a DeprecationWarning.
    """

    N: int = 10
    """Chain length (periodic TFIM, ``N <= 16``)."""
    h_target: float = 1.0
    """Transverse field of the VMC problem."""
    h_data: float = 0.9
    """Field of the exact ground state that is measured for training data."""
    n_data: int = 5000
    """Z-basis samples for training."""
    alpha: int = 1
    """Hidden-unit density of the shared ansatz."""
    n_steps: int = 100
    """VMC budget per run (SR iterations)."""
    n_samples: int = 1024
    """VMC samples per iteration."""
    target: float = 1e-3
    """Relative energy error to reach."""
    epochs: int = 400
    """Maximum-likelihood epochs (full-batch Adam steps)."""

    def __post_init__(self):
        check_positive_int("N", self.N, minimum=2)
        if self.N > 16:
            raise TooLargeError(f"N: expected at most 16 (exact likelihood); got {self.N}")
        for name in ("n_data", "alpha", "n_steps", "n_samples", "epochs"):
            check_positive_int(name, getattr(self, name))
        if not 0 < self.target < 1:
            raise InvalidParameterError(f"target: expected 0 < target < 1; got {self.target!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WarmStartResult(Result):
    """What :func:`warm_start_comparison` returns.

    ``rows``: one dict per key (repetition), in order: ``run`` (its index), ``final_nll``,
    ``warm_fidelity`` (of the warm start with the exact target state) and, for ``warm`` and
    ``random``: ``<kind>_iterations`` (to reach ``config.target``; None if never),
    ``<kind>_initial_relative_error``, ``<kind>_final_relative_error`` and
    ``<kind>_energy`` (the energy per iteration, ``(n_steps,)``).
    """

    exact_energy: float
    """The exact ground energy at ``h_target`` (model units)."""
    rows: tuple[dict, ...]
    median_iterations_warm: float
    """Median iterations to the target from the warm start (the budget when never reached)."""
    median_iterations_random: float
    """The same from a random start."""
    speedup: float
    """``median_iterations_random / max(median_iterations_warm, 1)``."""
    note: str = "iterations = budget when the target was never reached"

    reported = (
        "exact_energy",
        "median_iterations_warm",
        "median_iterations_random",
        "note",
        "speedup",
    )

    def summary(self) -> dict:
        """The medians, the speed-up and the rows without their per-iteration energies."""
        return super().summary() | {
            "rows": [{k: v for k, v in r.items() if not k.endswith("_energy")} for r in self.rows],
        }


def warm_start_comparison(config: WarmStartConfig, *, keys: Sequence[Any]) -> WarmStartResult:
    """Iterations to reach ``config.target`` from a warm and a random start, per key.

    Each key of ``keys`` (e.g. ``jax.random.split(key, n)``, or one key per seed made by
    the caller) is split into measurement, likelihood-fit and VMC keys. The warm and the
    random run of one repetition share the VMC key on purpose (common random numbers:
    the same sampler seeds), so that they differ only in their initial parameters.
    """
    import time

    from qml_phys.nqs.ground_state import VMCConfig, ground_state
    from qml_phys.nqs.tomography import all_spins, fidelity, measure
    from qml_phys.physics import Lattice, TransverseFieldIsing, exact

    t0 = time.perf_counter()
    keys = list(keys)
    if not keys:
        raise InvalidParameterError("keys: expected at least one PRNG key; got none")
    lat = Lattice.chain(config.N)
    target_model = TransverseFieldIsing(lat, J=1.0, gamma=config.h_target)
    data_model = TransverseFieldIsing(lat, J=1.0, gamma=config.h_data)
    e_exact = exact.reference(target_model)["energy"]
    _, vec_data = exact.lanczos(data_model, return_vectors=True)
    _, vec_target = exact.lanczos(target_model, return_vectors=True)
    psi_data = np.abs(vec_data[:, 0])
    basis = "Z" * config.N
    rows = []
    for i, key in enumerate(keys):
        k_meas, k_fit, k_vmc = jax.random.split(key, 3)
        samples = measure(psi_data, [basis], config.n_data, key=k_meas)[basis]
        gen = SpinRBM(alpha=config.alpha)
        variables, nll = fit_log_prob(gen, samples, key=k_fit, epochs=config.epochs)
        nqs_module, params = as_log_psi(gen, variables)
        with float64():
            logpsi = np.asarray(nqs_module.apply({"params": params}, all_spins(config.N)))
        psi_warm = np.exp(logpsi - logpsi.max())
        vmc = VMCConfig(
            ansatz=nqs_module,
            n_steps=config.n_steps,
            n_samples=config.n_samples,
            final_samples=0,
            tail=10,
            warmup=0,
        )
        runs = {}
        for name, init in (("warm", params), ("random", None)):
            res = ground_state(target_model, vmc, key=k_vmc, params=init)
            e = res.history["energy"]
            runs[name] = {
                "iterations": iterations_to(e, e_exact, config.target),
                "initial_relative_error": float(abs(e[0] - e_exact) / abs(e_exact)),
                "final_relative_error": float(abs(res.tail_energy - e_exact) / abs(e_exact)),
                "energy": e,
            }
        rows.append(
            {
                "run": i,
                "final_nll": float(nll[-1]),
                "warm_fidelity": fidelity(vec_target[:, 0], psi_warm),
                **{f"{k}_{q}": v[q] for k, v in runs.items() for q in v},
            }
        )

    def med(kind):
        its = [r[f"{kind}_iterations"] for r in rows]
        return float(np.median([v if v is not None else config.n_steps for v in its]))

    warm, rand = med("warm"), med("random")
    return WarmStartResult(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        exact_energy=e_exact,
        rows=tuple(rows),
        median_iterations_warm=warm,
        median_iterations_random=rand,
        speedup=rand / max(warm, 1.0),
    )
