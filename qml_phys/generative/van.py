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

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.classical.statistics import Estimate
from qml_phys.errors import InvalidParameterError, check_positive_int, check_temperature
from qml_phys.generative.base import init_params, n_sites, sample

__all__ = ["VANResult", "ising_energy", "train_van", "van_loss", "variational_free_energy"]


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


class VANResult(NamedTuple):
    """Result of :func:`train_van`."""

    module: Any
    params: Any
    free_energy: Estimate
    """Variational :math:`F_q/N` (an upper bound on ``F/N`` up to its error)."""
    exact: float
    """Kaufman's exact ``F/N`` of the ``L x L`` torus."""
    relative_error: float
    """``(F_q - F) / |F|``."""
    status: str
    history: list


def train_van(
    L: int,
    T: float,
    *,
    J: float = 1.0,
    model: str = "made",
    steps: int = 1000,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    beta_anneal: float = 0.99,
    z2: bool = True,
    n_eval: int = 20000,
    seed: int = 0,
    out=None,
    model_kwargs: dict | None = None,
) -> VANResult:
    """Train a VAN on the ``L x L`` Ising model at ``T`` and compare with Kaufman.

    ``model``: ``made|pixelcnn|rnn|transformer|local``
    (:func:`~qml_phys.generative.autoregressive.make_model`), spin-flip symmetrised with
    ``z2`` (``local`` is symmetric by construction and is not wrapped). ``steps`` Adam
    steps of ``batch_size`` samples
    (checkpointed under ``out`` in blocks of 100, resumable); the free energy is then
    estimated from ``n_eval`` fresh samples. A non-finite loss stops with
    ``status="diverged"`` and keeps the last good parameters.
    """
    from qml_phys.generative.autoregressive import make_model
    from qml_phys.physics.exact import kaufman
    from qml_phys.train import TrainConfig, fit

    L = check_positive_int("L", L, minimum=2)
    T = check_temperature(T)
    steps = check_positive_int("steps", steps)
    module = make_model(model, L, z2=z2 and model != "local", **(model_kwargs or {}))
    key = jax.random.key(seed)
    k_init, k_eval = jax.random.split(key)
    params = init_params(module, key=k_init)
    per_epoch = min(100, steps)
    config = TrainConfig(
        epochs=math.ceil(steps / per_epoch),
        steps_per_epoch=per_epoch,
        learning_rate=learning_rate,
        validation_fraction=0.0,
        seed=seed,
    )
    res = fit(
        van_loss(module, T=T, J=J, batch_size=batch_size, beta_anneal=beta_anneal),
        params,
        None,
        config=config,
        model_state={"step": jnp.zeros((), jnp.int32)},
        out=out,
        desc=f"VAN L={L} T={T:g}",
    )
    fq = variational_free_energy(module, res.params, key=k_eval, T=T, J=J, n_samples=n_eval)
    exact = float(kaufman(L, T, J).free_energy_per_site)
    return VANResult(
        module, res.params, fq, exact, (fq.mean - exact) / abs(exact), res.status, res.history
    )
