r"""Restricted Boltzmann machine over Ising spins, trained by (persistent) contrastive divergence.

Energy of visible units ``v`` (``N``) and binary hidden units ``h in {0,1}^M``:

.. math:: E(v, h) = -b\cdot v - c\cdot h - v^\top W h, \qquad
    p(v) = e^{-F(v)}/Z, \quad F(v) = -b\cdot v - \sum_j \ln(1 + e^{c_j + (v^\top W)_j}).

The interface is always spins ``s in {-1,+1}`` (see :mod:`qml_phys.generative.base`); with
``visible="spin"`` the visible units are ``v = s`` (Torlai & Melko, PRB 94, 165134 (2016),
arXiv:1606.02718), with ``visible="binary"`` they are ``v = (s + 1) / 2`` (Hinton's
convention). ``RBM.__call__(s)`` returns the *unnormalised* ``-F(s)``; normalise with
:func:`log_partition` (exact, by enumerating the smaller layer: ``min(N, M) <= 24``) or
estimate ``ln Z`` with :func:`ais_log_partition` (annealed importance sampling, R. Neal,
Stat. Comput. 11, 125 (2001), doi:10.1023/A:1008923215028, as applied to RBMs by
Salakhutdinov & Murray, ICML 2008, doi:10.1145/1390156.1390266).

Training: :func:`cd_loss` is a :func:`qml_phys.train.fit` loss whose gradient is the CD-k
estimate (Hinton, Neural Comput. 14, 1771 (2002)) or, with ``persistent=True``, PCD
(Tieleman, ICML 2008): the fantasy chains are the trainer's ``model_state``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from qml_phys.errors import (
    InvalidParameterError,
    TooLargeError,
    UnknownNameError,
    check_positive_int,
)
from qml_phys.generative.base import flatten_spins, n_sites
from qml_phys.runtime.results import Result

__all__ = [
    "AISResult",
    "MAX_EXACT_LAYER",
    "RBM",
    "ais_log_partition",
    "cd_loss",
    "exact_log_likelihood",
    "gibbs",
    "init_chains",
    "log_partition",
    "sample_gibbs",
]

MAX_EXACT_LAYER = 24
"""Largest layer (visible or hidden) that :func:`log_partition` enumerates."""

VISIBLE = ("spin", "binary")


class RBM(nn.Module):
    """RBM with ``N = prod(shape)`` visible and ``n_hidden`` binary hidden units."""

    shape: tuple[int, ...]
    """Lattice shape of the visible layer, e.g. ``(L, L)``."""
    n_hidden: int = 16
    """Number of hidden units ``M``."""
    visible: str = "spin"
    """``"spin"`` (v = s in {-1,+1}) or ``"binary"`` (v = (s+1)/2 in {0,1})."""
    init_scale: float = 0.1
    """Standard deviation of the initial weights."""
    paired_init: bool = True
    """Initialise hidden units in pairs ``(w, -w)``: the initial model is spin-flip
    symmetric like the zero-field Ising model, which avoids a long plateau of training at
    the symmetric saddle (measured on the 3x3 torus at T_c)."""

    normalised: ClassVar[bool] = False
    exact_sampling: ClassVar[bool] = False

    @nn.compact
    def __call__(self, s) -> jax.Array:
        """``-F(s)`` (unnormalised ``ln p``), shape ``s.shape[:-k]``."""
        if self.visible not in VISIBLE:
            raise UnknownNameError(f"expected visible in {VISIBLE}; got {self.visible!r}")
        N = n_sites(self.shape)
        x, batch = flatten_spins(s, self.shape)
        p = {
            "W": self.param("W", self._init_weights, (N, self.n_hidden), jnp.float32),
            "b": self.param("b", nn.initializers.zeros, (N,), jnp.float32),
            "c": self.param("c", nn.initializers.zeros, (self.n_hidden,), jnp.float32),
        }
        return _neg_free_energy(p, _units(x, self.visible)).reshape(batch)

    def _init_weights(self, key, shape, dtype=jnp.float32):
        w = self.init_scale * jax.random.normal(key, shape, dtype)
        if self.paired_init:
            half = shape[1] // 2
            w = w.at[:, half : 2 * half].set(-w[:, :half])
        return w


def _units(x: jax.Array, visible: str) -> jax.Array:
    return x if visible == "spin" else 0.5 * (x + 1.0)


def _spins(v: jax.Array, visible: str) -> jax.Array:
    return v if visible == "spin" else 2.0 * v - 1.0


def _neg_free_energy(p: dict, v: jax.Array) -> jax.Array:
    return v @ p["b"] + jnp.sum(jax.nn.softplus(v @ p["W"] + p["c"][None, :]), axis=-1)


def _gibbs_step(p: dict, key: jax.Array, v: jax.Array, visible: str) -> jax.Array:
    """One block Gibbs step ``v -> h -> v'`` in visible units."""
    kh, kv = jax.random.split(key)
    ph = jax.nn.sigmoid(v @ p["W"] + p["c"][None, :])
    h = jax.random.bernoulli(kh, ph).astype(v.dtype)
    field = h @ p["W"].T + p["b"][None, :]
    if visible == "spin":
        up = jax.random.bernoulli(kv, jax.nn.sigmoid(2.0 * field))
        return jnp.where(up, 1.0, -1.0).astype(v.dtype)
    return jax.random.bernoulli(kv, jax.nn.sigmoid(field)).astype(v.dtype)


def gibbs(module: RBM, params, key: jax.Array, s, n_steps: int) -> jax.Array:
    """``n_steps`` block Gibbs steps from spins ``s`` ``(n, N)`` or ``(n, *shape)``.

    Returns spins of the same shape (float32 in {-1,+1}).
    """
    x, batch = flatten_spins(s, module.shape)
    v = _units(x, module.visible)
    v = jax.lax.fori_loop(
        0,
        n_steps,
        lambda i, v: _gibbs_step(params, jax.random.fold_in(key, i), v, module.visible),
        v,
    )
    return _spins(v, module.visible).reshape(jnp.shape(s))


def init_chains(module: RBM, *, key: jax.Array, n_chains: int) -> jax.Array:
    """Random ``(n_chains, N)`` float32 spins: the persistent chains of PCD."""
    from qml_phys.generative.base import check_sample_memory

    N = n_sites(module.shape)
    check_sample_memory(n_chains, N + module.n_hidden)
    return jnp.where(jax.random.bernoulli(key, 0.5, (n_chains, N)), 1.0, -1.0).astype(jnp.float32)


def sample_gibbs(module: RBM, params, key: jax.Array, n: int, *, n_steps: int = 1000) -> jax.Array:
    """``n`` samples ``(n, *shape)``, one per independent chain after ``n_steps`` Gibbs steps.

    The chains start from uniform random spins; samples are independent of each other but
    only approximately from the model (burn-in ``n_steps``).
    """
    k0, k1 = jax.random.split(key)
    s = gibbs(module, params, k1, init_chains(module, key=k0, n_chains=n), n_steps)
    return s.reshape((n, *module.shape))


def cd_loss(module: RBM, *, k: int = 1, persistent: bool = True):
    r"""A :func:`qml_phys.train.fit` loss with the CD-k / PCD-k gradient.

    ``loss = <F(v)>_data - <F(v~)>_model`` with ``v~`` held fixed (stop-gradient): its
    gradient is the CD estimate of ``-d <ln p(v)>_data``. CD-k starts the ``k`` Gibbs steps
    at the data; PCD continues the persistent chains in ``model_state`` (``(n_chains, N)``
    float32 from :func:`init_chains`, updated only in training mode). ``batch["x"]``: spins.
    Metrics: ``free_energy_gap`` (the loss per site).
    """
    k = check_positive_int("k", k)
    N = n_sites(module.shape)

    def loss_fn(params, batch, *, key, model_state, train):
        x, _ = flatten_spins(batch["x"], module.shape)
        if persistent and model_state is not None:
            start = model_state
        else:
            start = x
        fantasy = jax.lax.stop_gradient(gibbs(module, params, key, start, k))
        f_data = -jnp.mean(module.apply({"params": params}, x))
        f_model = -jnp.mean(module.apply({"params": params}, fantasy))
        loss = f_data - f_model
        new_state = fantasy if (persistent and model_state is not None and train) else model_state
        return loss, ({"free_energy_gap": loss / N}, new_state)

    return loss_fn


def _params_np(params) -> dict[str, np.ndarray]:
    return {k: np.asarray(params[k], np.float64) for k in ("W", "b", "c")}


def _all_states(n: int, start: int, stop: int) -> np.ndarray:
    b = np.arange(start, stop, dtype=np.int64)
    return ((b[:, None] >> np.arange(n - 1, -1, -1, dtype=np.int64)[None, :]) & 1).astype(
        np.float64
    )


def log_partition(module: RBM, params) -> float:
    """Exact ``ln Z`` (float64), enumerating the smaller layer (``min(N, M) <= 24``).

    Over the hidden layer: ``Z = sum_h e^{c.h} prod_i 2 cosh(b_i + (W h)_i)`` (spin) or
    ``prod_i (1 + e^{b_i + (W h)_i})`` (binary); over the visible layer: ``sum_v e^{-F(v)}``.
    """
    p = _params_np(params)
    N, M = p["W"].shape
    if min(N, M) > MAX_EXACT_LAYER:
        raise TooLargeError(
            f"exact ln Z enumerates the smaller layer: expected min(N, M) <= {MAX_EXACT_LAYER}; "
            f"got N={N}, M={M}; use ais_log_partition"
        )
    parts = []
    chunk = 1 << 16
    if M <= N:
        for i in range(0, 1 << M, chunk):
            h = _all_states(M, i, min(1 << M, i + chunk))
            field = h @ p["W"].T + p["b"][None, :]
            if module.visible == "spin":
                lw = np.logaddexp(field, -field).sum(axis=1)
            else:
                lw = np.logaddexp(0.0, field).sum(axis=1)
            parts.append(h @ p["c"] + lw)
    else:
        for i in range(0, 1 << N, chunk):
            bits = _all_states(N, i, min(1 << N, i + chunk))
            v = 1.0 - 2.0 * bits if module.visible == "spin" else 1.0 - bits
            parts.append(v @ p["b"] + np.logaddexp(0.0, v @ p["W"] + p["c"][None, :]).sum(axis=1))
    return float(scipy.special.logsumexp(np.concatenate(parts)))


def exact_log_likelihood(module: RBM, params, s) -> float:
    """Mean ``ln p(s)`` (nats) over a batch of spins, with the exact ``ln Z``."""
    x, _ = flatten_spins(s, module.shape)
    neg_f = np.asarray(module.apply({"params": params}, x), np.float64)
    return float(neg_f.mean() - log_partition(module, params))


@dataclasses.dataclass(frozen=True, kw_only=True)
class AISResult(Result):
    """What :func:`ais_log_partition` returns: the annealed-importance-sampling estimate of
    ``ln Z``. ``config``: ``{"n_chains", "n_betas"}``; ``history``: per annealing step
    ``k``, ``log_z`` (the running estimate ``ln Z_0 + ln mean_chains(w_k)`` of ``ln Z`` of
    the intermediate RBM at ``beta_k``)."""

    log_z: float
    """``ln Z_0 + ln mean(w)``."""
    error: float
    """Delta-method standard error ``std(w) / (sqrt(n) mean(w))`` of ``ln Z``."""
    log_weights: np.ndarray
    """``(n_chains,)`` final log importance weights."""

    def summary(self) -> dict:
        """The settings, ``log_z`` and its ``error``."""
        return super().summary() | {"log_z": self.log_z, "error": self.error}


def ais_log_partition(
    module: RBM,
    params,
    *,
    key: jax.Array,
    n_chains: int = 200,
    n_betas: int = 2000,
    base_bias=None,
) -> AISResult:
    r"""``ln Z`` by annealed importance sampling from the independent-visible-units RBM.

    Path: ``theta_beta = (beta W, beta c, (1 - beta) b_A + beta b)`` for ``beta`` on a
    uniform grid of ``n_betas`` points from 0 to 1, so that ``Z_0 = 2^M prod_i z_i(b_A)``
    is exact and every intermediate distribution is an RBM; one Gibbs step per ``beta``.
    ``base_bias`` ``(N,)``: the visible biases ``b_A`` of the base model (default: the
    model's own ``b``). The estimate of ``Z`` is unbiased; ``ln Z`` is biased low by about
    ``error^2 / 2``.
    """
    n_chains = check_positive_int("n_chains", n_chains, minimum=2)
    n_betas = check_positive_int("n_betas", n_betas, minimum=2)
    p = {k: jnp.asarray(params[k], jnp.float32) for k in ("W", "b", "c")}
    N, M = p["W"].shape
    b_a = p["b"] if base_bias is None else jnp.asarray(base_bias, jnp.float32)
    if b_a.shape != (N,):
        raise InvalidParameterError(f"expected base_bias of shape ({N},); got {b_a.shape}")
    visible = module.visible
    if visible == "spin":
        log_z0 = M * math.log(2.0) + float(jnp.sum(jnp.logaddexp(b_a, -b_a)))
    else:
        log_z0 = M * math.log(2.0) + float(jnp.sum(jnp.logaddexp(0.0, b_a)))
    betas = jnp.linspace(0.0, 1.0, n_betas, dtype=jnp.float32)

    def theta(beta):
        return {"W": beta * p["W"], "c": beta * p["c"], "b": (1.0 - beta) * b_a + beta * p["b"]}

    @jax.jit
    def run(key):
        k0, k1 = jax.random.split(key)
        p_up = jax.nn.sigmoid((2.0 if visible == "spin" else 1.0) * b_a)
        up = jax.random.bernoulli(k0, jnp.broadcast_to(p_up[None, :], (n_chains, N)))
        v = jnp.where(up, 1.0, -1.0) if visible == "spin" else up.astype(jnp.float32)
        v = v.astype(jnp.float32)

        def step(carry, inputs):
            v, logw = carry
            b_prev, b_next, k = inputs
            logw = logw + _neg_free_energy(theta(b_next), v) - _neg_free_energy(theta(b_prev), v)
            v = _gibbs_step(theta(b_next), k, v, visible)
            return (v, logw), jax.nn.logsumexp(logw)

        keys = jax.random.split(k1, n_betas - 1)
        (v, logw), running = jax.lax.scan(
            step, (v, jnp.zeros((n_chains,), jnp.float32)), (betas[:-1], betas[1:], keys)
        )
        return logw, running

    t0 = time.perf_counter()
    logw, running = run(key)
    logw = np.asarray(logw, np.float64)
    lme = float(scipy.special.logsumexp(logw) - math.log(n_chains))
    w = np.exp(logw - logw.max())
    error = float(np.std(w, ddof=1) / (math.sqrt(n_chains) * w.mean()))
    return AISResult(
        config={"n_chains": n_chains, "n_betas": n_betas},
        history={"log_z": log_z0 + np.asarray(running, np.float64) - math.log(n_chains)},
        wall_time_s=time.perf_counter() - t0,
        log_z=log_z0 + lme,
        error=error,
        log_weights=logw,
    )
