r"""Variational autoregressive networks for the 2D Ising model (no data).

Wu, Wang, Zhang, *Solving statistical mechanics using variational autoregressive
networks*, PRL 122, 080602 (2019), arXiv:1809.10606. An autoregressive model
:math:`q_\theta(s)` (exactly normalised and exactly sampled, see
:mod:`qml_phys.generative.autoregressive`) minimises the variational free energy

.. math:: \beta F_q = \mathbb{E}_{s\sim q}\,[\beta E(s) + \ln q(s)] \;\ge\; \beta F = -\ln Z,

an upper bound on the true free energy (equality iff ``q`` is the Boltzmann distribution).
The gradient is the score-function (REINFORCE) estimate with the batch mean as baseline,

.. math:: \nabla_\theta \beta F_q \approx \frac1B \sum_b
    \big(f(s_b) - \bar f\big)\, \nabla_\theta \ln q_\theta(s_b), \quad f = \beta E + \ln q,

and :math:`\beta` is annealed during training, :math:`\beta_t = \beta(1 - a^t)` (the
paper's ``beta_anneal``), which avoids mode collapse into one of the two ordered states.
``E = -J sum_<ij> s_i s_j`` on the periodic ``L x L`` lattice, so
:func:`qml_phys.physics.exact.kaufman` gives the exact free energy to compare with.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    check_name,
    check_number,
    check_positive_int,
    check_temperature,
)
from qml_phys.generative.base import fingerprinted, init_params, n_sites, sample
from qml_phys.runtime.results import Result, ran
from qml_phys.stats import Estimate

__all__ = [
    "VANConfig",
    "VANResult",
    "ising_energy",
    "train_van",
    "van_loss",
    "variational_free_energy",
]


def ising_energy(s: jax.Array, J: float = 1.0) -> jax.Array:
    """Total energy ``(n,)`` float32 of ``(n, L, L)`` periodic configurations."""
    bonds = s * jnp.roll(s, -1, axis=-1) + s * jnp.roll(s, -1, axis=-2)
    return jnp.float32(-J) * jnp.sum(bonds, axis=(-1, -2))


def van_loss(module, *, T: float, J: float = 1.0, batch_size: int = 256, beta_anneal: float = 0.99):
    r"""A :func:`qml_phys.train.fit` loss (``data=None``) for the VAN.

    ``model_state`` is ``{"step": int32 scalar}`` (start at 0); the step sets the annealed
    ``beta_t = (1 - beta_anneal^(t+1)) / T``. The returned loss *value* is
    :math:`\beta_t F_q / N` of the batch, its *gradient* the REINFORCE estimate above (per
    site). Metrics: ``beta`` and ``free_energy_per_site`` (:math:`F_q/N` at ``beta_t``).
    """
    T = check_temperature(T)
    batch_size = check_positive_int("batch_size", batch_size, minimum=2)
    if not 0.0 <= beta_anneal < 1.0:
        raise InvalidParameterError(f"expected 0 <= beta_anneal < 1; got {beta_anneal!r}")
    if len(module.shape) != 2:
        raise InvalidParameterError(
            f"expected a model of an (L, L) lattice; got shape {module.shape}"
        )
    N = n_sites(module.shape)

    def loss_fn(params, batch, *, key, model_state, train):
        step = model_state["step"]
        beta = (1.0 - jnp.float32(beta_anneal) ** (step + 1).astype(jnp.float32)) / jnp.float32(T)
        s = jax.lax.stop_gradient(sample(module, params, key, batch_size))
        log_q = module.apply({"params": params}, s)
        f = jax.lax.stop_gradient(beta * ising_energy(s, J) + log_q)
        surrogate = jnp.mean((f - jnp.mean(f)) * log_q) / N
        value = jnp.mean(f) / N
        loss = surrogate - jax.lax.stop_gradient(surrogate) + value
        new_state = {"step": step + 1} if train else model_state
        return loss, ({"beta": beta, "free_energy_per_site": value / beta}, new_state)

    return loss_fn


def variational_free_energy(
    module,
    params,
    *,
    key: jax.Array,
    T: float,
    J: float = 1.0,
    n_samples: int = 10000,
    batch_size: int = 2000,
) -> Estimate:
    r""":math:`F_q/N = \mathbb{E}_q[E + T\ln q]/N` from ``n_samples`` exact samples.

    Samples are independent, so the error is ``std / sqrt(n)`` (``tau_int = 1/2``).
    """
    T = check_temperature(T)
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    N = n_sites(module.shape)

    @jax.jit
    def f(k):
        s = sample(module, params, k, batch_size)
        return (ising_energy(s, J) + jnp.float32(T) * module.apply({"params": params}, s)) / N

    vals = []
    for i in range(math.ceil(n_samples / batch_size)):
        vals.append(np.asarray(f(jax.random.fold_in(key, i)), np.float64))
    v = np.concatenate(vals)[:n_samples]
    return Estimate(
        float(v.mean()), float(v.std(ddof=1) / math.sqrt(v.size)), 0.5, float(v.size), math.nan
    )


@dataclasses.dataclass(frozen=True)
class VANConfig:
    """Model and training of :func:`train_van` (Adam, constant learning rate)."""

    model: str = "made"
    """Autoregressive architecture: one of
    :data:`qml_phys.generative.models.AUTOREGRESSIVE`."""
    hidden: int | None = None
    """Width of the model (:func:`~qml_phys.generative.models.make_spin_model`; the
    model's own default when None)."""
    z2: bool = True
    """Spin-flip symmetrise the model, ``q(s) = (p(s) + p(-s)) / 2`` (``local`` is
    symmetric by construction and is not wrapped)."""
    n_steps: int = 1000
    """Optimisation steps (run in epochs of ``min(100, n_steps)``, the unit of
    checkpoints; the last epoch is completed, so up to 99 more steps may run)."""
    batch_size: int = 256
    """Samples per step."""
    learning_rate: float = 1e-3
    """Adam's learning rate."""
    beta_anneal: float = 0.99
    """``a`` of the annealing ``beta_t = beta (1 - a^t)``, in [0, 1)."""
    n_samples: int = 20000
    """Fresh exact samples for the final estimate of ``F_q``."""

    def __post_init__(self):
        from qml_phys.generative.models import AUTOREGRESSIVE

        check_name("model", self.model, AUTOREGRESSIVE)
        if self.hidden is not None:
            check_positive_int("hidden", self.hidden)
        check_positive_int("n_steps", self.n_steps)
        check_positive_int("batch_size", self.batch_size, minimum=2)
        check_positive_int("n_samples", self.n_samples, minimum=2)
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)
        if not 0.0 <= self.beta_anneal < 1.0:
            raise InvalidParameterError(f"expected 0 <= beta_anneal < 1; got {self.beta_anneal!r}")

    @property
    def steps_per_epoch(self) -> int:
        """Steps per epoch (checkpoint): ``min(100, n_steps)``."""
        return min(100, self.n_steps)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VANResult(Result):
    """What :func:`train_van` returns. ``history``: per epoch of ``config.steps_per_epoch``
    steps, ``train_loss`` (``beta_t F_q / N``), ``beta``, ``free_energy_per_site`` and
    ``seconds``; ``status``: ``completed`` or ``diverged``."""

    module: Any
    """The trained autoregressive model (configuration only)."""
    params: Any
    """Its trained parameters."""
    L: int
    T: float
    free_energy: Estimate
    """Variational :math:`F_q/N` (an upper bound on ``F/N`` up to its error)."""
    exact: float
    """Kaufman's exact ``F/N`` of the ``L x L`` torus."""
    relative_error: float
    """``(F_q - F) / |F|``."""
    resumed_from: int = 0
    """Epochs already done when this call started (0 for a fresh run)."""

    @property
    def steps(self) -> int:
        """Optimisation steps done, including those of a resumed run."""
        return self.n_steps * self.config.steps_per_epoch

    @property
    def upper_bound_holds(self) -> bool:
        """``F_q >= F - 3 sigma``: the variational bound, within three standard errors."""
        return bool(self.free_energy.mean >= self.exact - 3 * self.free_energy.error)

    def summary(self) -> dict:
        """``L, T, model, status, steps``, ``F_q/N`` with its error, the exact ``F/N``, the
        relative error, ``upper_bound_holds`` and ``wall_time_s``."""
        return {
            "L": self.L,
            "T": self.T,
            "model": self.config.model,
            "status": self.status,
            "steps": self.steps,
            "free_energy_per_site": self.free_energy.mean,
            "free_energy_error": self.free_energy.error,
            "exact_free_energy_per_site": self.exact,
            "relative_error": self.relative_error,
            "upper_bound_holds": self.upper_bound_holds,
            "wall_time_s": self.wall_time_s,
        }


def train_van(
    L: int,
    T: float,
    config: VANConfig = VANConfig(),
    *,
    J: float = 1.0,
    key: jax.Array,
    checkpoint=None,
) -> VANResult:
    """Train a VAN on the ``L x L`` Ising model at ``T`` and compare with Kaufman.

    ``config.n_steps`` Adam steps of ``config.batch_size`` samples (checkpointed in epochs
    of ``config.steps_per_epoch`` steps, resumable), then ``F_q`` from
    ``config.n_samples`` fresh samples. A non-finite loss stops with ``status="diverged"``
    and keeps the last good parameters.

    Args:
        L: linear lattice size (>= 2).
        T: temperature (units of J).
        config: model and training.
        J: coupling.
        key: PRNG key of the initial parameters, training and the final estimate.
        checkpoint: a :class:`~qml_phys.runtime.checkpoint.Checkpoint` to save to and
            resume from (its fingerprint also holds ``L``, ``T``, ``J`` and the model).
    """
    from qml_phys.generative.models import make_spin_model
    from qml_phys.physics.exact import kaufman
    from qml_phys.train import TrainConfig, fit

    L = check_positive_int("L", L, minimum=2)
    T = check_temperature(T)
    from qml_phys.generative.base import check_sample_memory

    # the training batches and the final estimate, before the network is built
    check_sample_memory(max(config.batch_size, config.n_samples), L * L)
    t0 = time.perf_counter()
    z2 = config.z2 and config.model != "local"
    module = make_spin_model(config.model, L, hidden=config.hidden, z2=z2)
    k_init, k_fit, k_eval = jax.random.split(key, 3)
    params = init_params(module, key=k_init)
    tc = TrainConfig(
        epochs=math.ceil(config.n_steps / config.steps_per_epoch),
        steps_per_epoch=config.steps_per_epoch,
        learning_rate=config.learning_rate,
        validation_fraction=0.0,
        label=f"VAN L={L} T={T:g}",
    )
    van = {k: getattr(config, k) for k in ("model", "hidden", "z2", "batch_size", "beta_anneal")}
    checkpoint = fingerprinted(checkpoint, van=van | {"L": L, "T": T, "J": J})
    res = fit(
        van_loss(module, T=T, J=J, batch_size=config.batch_size, beta_anneal=config.beta_anneal),
        params,
        None,
        config=tc,
        key=k_fit,
        model_state={"step": jnp.zeros((), jnp.int32)},
        callbacks=() if checkpoint is None else (checkpoint,),
    )
    fq = variational_free_energy(
        module, res.params, key=k_eval, T=T, J=J, n_samples=config.n_samples
    )
    exact = float(kaufman(L, T, J).free_energy_per_site)
    return VANResult(
        **ran(config, res, since=t0),
        module=module,
        params=res.params,
        L=L,
        T=T,
        free_energy=fq,
        exact=exact,
        relative_error=(fq.mean - exact) / abs(exact),
        resumed_from=res.resumed_from,
    )
