r"""Renormalisation group and deep learning: block spins and stacked RBMs.

**Block spins** (Kadanoff 1966): the ``L x L`` configuration is cut into ``b x b`` blocks and
each block replaced by the sign of its total spin (majority rule; ties, possible for even
``b``, are broken by a fair coin from ``key``). Coarse-graining a configuration at
temperature ``T`` gives configurations of the ``(L/b) x (L/b)`` lattice that look like a
system further from ``T_c``: the correlation length in lattice units shrinks by ``b``.

**Stacked RBMs** (Mehta & Schwab, arXiv:1410.3831): a restricted Boltzmann machine with
Bernoulli units :math:`v \in \{0,1\}^{N}` (``v = (s + 1) / 2``), hidden :math:`h \in
\{0,1\}^{M}`, energy :math:`E(v,h) = -a\cdot v - b\cdot h - v^T W h` and free energy
:math:`F(v) = -a\cdot v - \sum_j \mathrm{softplus}(b_j + (v^TW)_j)`, :math:`p(v) \propto e^{-F(v)}`.
It is trained by persistent contrastive divergence (Tieleman 2008) through the shared
trainer: the loss :math:`\langle F\rangle_{data} - \langle F\rangle_{model}` with the model
samples from persistent Gibbs chains that live in the trainer's ``model_state``, plus an
L1 penalty on ``W`` (as in Mehta & Schwab) that favours local receptive fields. A second
RBM is trained on the hidden activations of the first. :func:`receptive_fields` and
:func:`locality` compare the learned weights with ``b x b`` blocks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int
from qml_phys.runtime.results import Result, overall_status


def block_spin(spins, b: int, *, key) -> np.ndarray:
    """Majority-rule block spins of ``(n, L, L)`` configurations in {-1,+1}: ``(n, L/b, L/b)``
    int8; ``L`` must be a multiple of ``b``; ties broken by ``key``."""
    s = np.asarray(spins)
    b = check_positive_int("b", b)
    if s.ndim != 3 or s.shape[1] != s.shape[2]:
        raise ShapeError(f"spins: expected shape (n, L, L); got {s.shape}")
    n, L, _ = s.shape
    if L % b:
        raise InvalidParameterError(f"b: expected a divisor of L = {L}; got {b}")
    sums = s.reshape(n, L // b, b, L // b, b).astype(np.int32).sum(axis=(2, 4))
    coin = 2 * np.asarray(jax.random.bernoulli(key, 0.5, sums.shape), dtype=np.int32) - 1
    return np.where(sums != 0, np.sign(sums), coin).astype(np.int8)


# --------------------------------------------------------------------------- RBM
class RBMParams(NamedTuple):
    W: jax.Array
    """``(n_visible, n_hidden)``"""
    a: jax.Array
    """visible biases ``(n_visible,)``"""
    b: jax.Array
    """hidden biases ``(n_hidden,)``"""


def init_rbm(n_visible: int, n_hidden: int, *, key, scale: float = 0.01) -> RBMParams:
    """Small random weights, zero biases (float32)."""
    W = scale * jax.random.normal(key, (n_visible, n_hidden), jnp.float32)
    return RBMParams(W, jnp.zeros(n_visible, jnp.float32), jnp.zeros(n_hidden, jnp.float32))


def free_energy(params: RBMParams, v) -> jax.Array:
    """``F(v)`` of visible configurations ``v`` ``(n, n_visible)`` in {0,1}: ``(n,)``."""
    v = v.astype(params.W.dtype)
    return -(v @ params.a) - jnp.sum(jax.nn.softplus(v @ params.W + params.b[None, :]), axis=-1)


def hidden_probabilities(params: RBMParams, v) -> jax.Array:
    """``p(h_j = 1 | v)``: ``(n, n_hidden)``."""
    return jax.nn.sigmoid(v.astype(params.W.dtype) @ params.W + params.b[None, :])


def gibbs_step(params: RBMParams, v, key):
    """One block-Gibbs sweep ``v -> h -> v'`` (Bernoulli units)."""
    kh, kv = jax.random.split(key)
    h = jax.random.bernoulli(kh, hidden_probabilities(params, v)).astype(params.W.dtype)
    pv = jax.nn.sigmoid(h @ params.W.T + params.a[None, :])
    return jax.random.bernoulli(kv, pv).astype(params.W.dtype)


def pcd_loss(l1: float = 0.0, k: int = 1):
    """The trainer loss of an RBM: ``<F>_data - <F>_chains + l1 |W|_1``; ``model_state`` is
    the ``(n_chains, n_visible)`` persistent chains, advanced ``k`` Gibbs sweeps per step.
    Batches are ``{"v": (batch, n_visible)}`` in {0,1}. Metric: reconstruction error."""

    def loss(params, batch, *, key, model_state, train):
        chains = model_state
        if train:
            for sub in jax.random.split(key, k):
                chains = gibbs_step(params, chains, sub)
            chains = jax.lax.stop_gradient(chains)
        v = batch["v"].astype(params.W.dtype)
        value = jnp.mean(free_energy(params, v)) - jnp.mean(free_energy(params, chains))
        value = value + l1 * jnp.sum(jnp.abs(params.W))
        recon = jax.nn.sigmoid(hidden_probabilities(params, v) @ params.W.T + params.a[None, :])
        return value, ({"reconstruction_error": jnp.mean((recon - v) ** 2)}, chains)

    return loss


def train_rbm(v, n_hidden: int, *, config, key, l1: float = 0.0, n_chains: int = 64, k: int = 1):
    """Train an RBM on ``v`` ``(n, n_visible)`` in {0,1} with :func:`qml_phys.train.fit`
    (``config`` without its validation split; ``key`` draws the initialisation, the
    persistent chains and the training).

    Returns the :class:`~qml_phys.train.TrainResult`; its ``params`` are the trained
    :class:`RBMParams`."""
    from qml_phys.train import fit

    v = np.asarray(v, dtype=np.float32)
    if v.ndim != 2 or not np.isin(v, (0.0, 1.0)).all():
        raise ShapeError(f"v: expected (n, n_visible) in {{0, 1}}; got shape {v.shape}")
    k_init, k_chain, k_fit = jax.random.split(key, 3)
    params = init_rbm(v.shape[1], check_positive_int("n_hidden", n_hidden), key=k_init)
    n_chains = check_positive_int("n_chains", n_chains)
    chains = jax.random.bernoulli(k_chain, 0.5, (n_chains, v.shape[1])).astype(jnp.float32)
    cfg = dataclasses.replace(config, validation_fraction=0.0, label=f"rbm {n_hidden} hidden")
    return fit(pcd_loss(l1, k), params, {"v": v}, config=cfg, key=k_fit, model_state=chains)


def exact_log_probabilities(params: RBMParams, states) -> np.ndarray:
    """``log p(v)`` of every row of ``states`` when ``states`` enumerates all ``2^N`` visible
    configurations (small ``N`` only): ``(2^N,)``."""
    f = -np.asarray(free_energy(params, jnp.asarray(states)), dtype=np.float64)
    return f - np.logaddexp.reduce(f)


@dataclasses.dataclass(frozen=True, kw_only=True)
class StackedRBMs(Result):
    """A stack of RBMs (:func:`stacked_rbms`); ``config`` is the training config of every
    layer, ``history`` is empty (each layer's is in ``layer_results``)."""

    layers: tuple[RBMParams, ...]
    """The parameters of every layer, first (visible = spins) to last."""
    layer_results: tuple[Any, ...] = ()
    """The trainer's :class:`~qml_phys.train.TrainResult` of every layer."""

    def summary(self) -> dict:
        """The shape, status and final loss of every layer."""
        return super().summary() | {
            "layers": [
                {
                    "shape": list(p.W.shape),
                    "status": r.status,
                    "final_train_loss": r.final("train_loss"),
                }
                for p, r in zip(self.layers, self.layer_results, strict=True)
            ]
        }


def stacked_rbms(spins, hidden=(16, 4), *, config, key, l1: float = 0.0) -> StackedRBMs:
    """Train a stack of RBMs (Mehta & Schwab 2014): the first on ``(n, L, L)`` spins, each next
    one on hidden samples of the previous (``hidden``: units per layer)."""
    t0 = time.perf_counter()
    s = np.asarray(spins)
    if s.ndim != 3:
        raise ShapeError(f"spins: expected shape (n, L, L); got {s.shape}")
    v = ((s.reshape(len(s), -1) + 1) // 2).astype(np.float32)
    results = []
    for i, (m, k) in enumerate(zip(hidden, jax.random.split(key, len(hidden)), strict=True)):
        k_train, k_sample = jax.random.split(k)
        res = train_rbm(v, m, config=config, key=k_train, l1=l1)
        results.append(res)
        if i + 1 < len(hidden):
            p = hidden_probabilities(res.params, jnp.asarray(v))
            v = np.asarray(jax.random.bernoulli(k_sample, p), np.float32)
    return StackedRBMs(
        config=config,
        wall_time_s=time.perf_counter() - t0,
        status=overall_status(r.status for r in results),
        layers=tuple(r.params for r in results),
        layer_results=tuple(results),
    )


def receptive_fields(layers: Sequence[RBMParams], L: int) -> list[np.ndarray]:
    """Effective receptive field of every hidden unit of every layer on the ``L x L`` lattice:
    the product of the weight matrices up to that layer, ``(n_hidden, L, L)`` each."""
    out, W = [], None
    for p in layers:
        W = np.asarray(p.W) if W is None else W @ np.asarray(p.W)
        out.append(W.T.reshape(-1, L, L))
    return out


def locality(fields, b: int) -> np.ndarray:
    """Fraction of each field's ``|w|`` inside its best ``b x b`` periodic window: ``(n,)``.

    ``b^2 / L^2`` for a field spread evenly, 1 for a field confined to one block.
    """
    f = np.abs(np.asarray(fields, dtype=np.float64))
    if f.ndim != 3:
        raise ShapeError(f"fields: expected shape (n, L, L); got {f.shape}")
    win = np.zeros(f.shape)
    for dx in range(b):
        for dy in range(b):
            win = win + np.roll(f, (-dx, -dy), axis=(1, 2))
    total = f.sum(axis=(1, 2))
    return win.reshape(len(f), -1).max(axis=1) / np.where(total > 0, total, 1.0)
