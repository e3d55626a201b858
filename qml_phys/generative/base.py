r"""One interface for generative models over Ising spins ``s in {-1,+1}^N``.

A model is a Flax module (configuration only, no state) whose ``__call__(s)`` returns
``log p(s)`` for a batch of configurations:

* ``s`` has shape ``(..., *shape)`` (e.g. ``(n, L, L)``) or ``(..., N)`` with
  ``N = prod(shape)``, any real dtype, values in {-1,+1}; site ``i = r * L + c`` in the
  flat layout. Any other trailing shape raises :class:`~qml_phys.errors.ShapeError`
  ("lattice shape mismatched with the model").
* the result has shape ``s.shape[:-k]`` (the batch shape), float32.
* class attribute ``normalised``: True when ``sum_s exp(log p(s)) = 1`` exactly
  (autoregressive models); False for energy-based models (the RBM returns
  ``-F(s)``, the free energy with the hidden units summed out, so
  ``log p(s) = -F(s) - ln Z`` with ``ln Z`` from :func:`qml_phys.generative.rbm.log_partition`).

Exact sampling is :func:`sample` ``(module, params, key, n) -> (n, *shape)`` float32 in
{-1,+1}, available where ``module.exact_sampling`` is True (autoregressive models: no
Markov chain; site ``i`` is drawn from ``p(s_i | s_<i)`` in raster order).

Everything is a pure function of ``params`` (the ``"params"`` collection of the module) and
an explicit PRNG ``key``. :func:`nll_loss` turns a normalised model into a
:func:`qml_phys.train.fit` loss (maximum likelihood on data ``{"x": spins}``), and
:mod:`qml_phys.generative.adapter` turns any model into a NetKet-compatible Flax module with
``log psi(s) = log p(s) / 2``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError, check_positive_int

__all__ = [
    "independence_metropolis",
    "flatten_spins",
    "fingerprinted",
    "promote_result",
    "init_params",
    "log_prob",
    "nll_loss",
    "n_sites",
    "sample",
    "spins_from_data",
    "symmetry_augment",
]


def n_sites(shape: tuple[int, ...]) -> int:
    """``N = prod(shape)``."""
    return int(math.prod(shape))


def flatten_spins(s, shape: tuple[int, ...], dtype=jnp.float32) -> tuple[jax.Array, tuple]:
    """``s`` of shape ``(..., *shape)`` or ``(..., N)`` as ``(n, N)`` ``dtype`` and batch shape.

    Raises ShapeError when the trailing axes are neither ``shape`` nor ``(N,)``.
    """
    shape = tuple(int(d) for d in shape)
    N = n_sites(shape)
    s = jnp.asarray(s)
    k = len(shape)
    if s.ndim >= k and tuple(s.shape[s.ndim - k :]) == shape:
        batch = tuple(s.shape[: s.ndim - k])
    elif s.ndim >= 1 and s.shape[-1] == N:
        batch = tuple(s.shape[:-1])
    else:
        raise ShapeError(
            f"lattice shape mismatched with the model: expected spins of shape (..., "
            f"{', '.join(map(str, shape))}) or (..., {N}); got shape {tuple(s.shape)}"
        )
    return jnp.reshape(s, (-1, N)).astype(dtype), batch


def init_params(module, *, key: jax.Array) -> Any:
    """Initial ``params`` of a spin model (evaluated on one all-up configuration)."""
    from qml_phys.runtime.resources import check_init_memory

    example = jnp.ones((1, n_sites(module.shape)), jnp.float32)
    check_init_memory(type(module).__name__, module.init, key, example)
    return module.init(key, example)["params"]


def log_prob(module, params, s) -> jax.Array:
    """``log p(s)`` (see the module docstring for shapes and normalisation)."""
    return module.apply({"params": params}, s)


def _generic_sample(module, params, key: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    """Exact ancestral sampling by ``N`` passes of a masked network (O(N) forward passes);
    returns the samples and their ``log p`` (summed along the way)."""
    N = n_sites(module.shape)
    logits_fn = lambda s: module.apply({"params": params}, s, method="logits")
    u = jax.random.uniform(key, (N, n), jnp.float32)

    def body(i, carry):
        s, lp = carry
        logit = logits_fn(s)[:, i]
        new = jnp.where(u[i] < jax.nn.sigmoid(logit), 1.0, -1.0).astype(jnp.float32)
        return s.at[:, i].set(new), lp + jax.nn.log_sigmoid(new * logit)

    init = (jnp.zeros((n, N), jnp.float32), jnp.zeros((n,), jnp.float32))
    s, lp = jax.lax.fori_loop(0, N, body, init)
    return s.reshape((n, *module.shape)), lp


#: Bytes per sampled spin a sampler holds at once (the samples, conditionals, activations).
SAMPLE_BYTES_PER_SITE = 64


def check_sample_memory(n: int, n_spins: int) -> None:
    """Refuse to draw ``n`` configurations of ``n_spins`` spins at once when they cannot fit
    in memory (:func:`~qml_phys.runtime.resources.check_memory`)."""
    from qml_phys.runtime.resources import check_memory

    check_memory(f"{n} samples of {n_spins} spins", float(SAMPLE_BYTES_PER_SITE) * n * n_spins)


def _check_exact_sampling(module, n) -> int:
    """``n`` as an int once the model samples exactly and ``n`` samples fit in memory."""
    n = check_positive_int("n", n)
    if not getattr(module, "exact_sampling", False):
        raise InvalidParameterError(
            f"expected a model with exact sampling (autoregressive); got "
            f"{type(module).__name__}: use its Markov-chain sampler instead"
        )
    check_sample_memory(n, n_sites(module.shape))
    return n


def sample(module, params, key: jax.Array, n: int) -> jax.Array:
    """``n`` exact samples ``(n, *module.shape)`` float32 in {-1,+1} (no Markov chain).

    Models define ``logits(s_flat) -> (n, N)`` with ``logit_i`` a function of ``s_<i`` only
    (``p(s_i = +1 | s_<i) = sigmoid(logit_i)``) and, optionally, a faster
    ``sample_fn(params, key, n)``.
    """
    n = _check_exact_sampling(module, n)
    custom = getattr(type(module), "sample_fn", None)
    if custom is not None:
        return custom(module, params, key, n)
    return _generic_sample(module, params, key, n)[0]


def sample_and_log_prob(module, params, key: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    """The samples of :func:`sample` (same key, same draws) and their ``log p`` ``(n,)``.

    Ancestral samplers sum ``log p`` while they draw (``sample_log_prob_fn`` of the model,
    or the generic sampler), which spares a second pass over the lattice; other exact
    samplers fall back to :func:`log_prob` of their draws.
    """
    n = _check_exact_sampling(module, n)
    fused = getattr(type(module), "sample_log_prob_fn", None)
    if fused is not None:
        return fused(module, params, key, n)
    if getattr(type(module), "sample_fn", None) is None:
        return _generic_sample(module, params, key, n)
    s = sample(module, params, key, n)
    return s, log_prob(module, params, s)


def nll_loss(module, *, augment: bool = False):
    """A :func:`qml_phys.train.fit` loss: mean negative log-likelihood (nats) of ``batch["x"]``.

    For normalised models; metrics report ``nll_per_site``. ``augment``: training batches
    of a 2D ``(L, L)`` torus pass through :func:`symmetry_augment` with random translations
    (the zero-field Ising measure is invariant under all of them; a raster-order model is
    not, so this is extra data, not a no-op); validation batches are left as they are.
    """
    if not getattr(module, "normalised", False):
        raise InvalidParameterError(
            f"expected a normalised model for maximum likelihood; got {type(module).__name__} "
            f"(train an RBM with qml_phys.generative.rbm.cd_loss)"
        )
    N = n_sites(module.shape)

    shape = tuple(module.shape)
    if augment and (len(shape) != 2 or shape[0] != shape[1]):
        raise InvalidParameterError(
            f"augment: expected a model of a square lattice (L, L); got shape {shape}"
        )

    def loss_fn(params, batch, *, key, model_state, train):
        x = batch["x"]
        if augment and train:
            x = symmetry_augment(key, x.reshape((-1, *shape)), translations=True)
        lp = module.apply({"params": params}, x)
        nll = -jnp.mean(lp)
        return nll, ({"nll_per_site": nll / N}, model_state)

    return loss_fn


def spins_from_data(spins, shape: tuple[int, ...]) -> np.ndarray:
    """Training data as float32 ``(n, *shape)`` after validating values and shape."""
    from qml_phys.generative.evaluate import check_spins

    a = np.asarray(spins)
    check_spins(a, shape=shape)
    return a.astype(np.float32)


def independence_metropolis(
    module, params, key: jax.Array, n: int, log_target, *, burn_in: float = 0.1
) -> dict:
    r"""Make an exact sampler's draws exact for a target: independence Metropolis.

    Proposals ``s' ~ q`` (the model, exact sampling) are accepted with
    :math:`\min\big(1, \frac{\pi(s') q(s)}{\pi(s) q(s')}\big)`, so the chain samples
    :math:`\pi \propto e^{\log\pi}` exactly whatever the model's quality; a good model only
    decorrelates the chain faster (neural MCMC: Nicoli et al., PRE 101, 023304 (2020),
    arXiv:1910.13496; the flow sampler of :mod:`qml_phys.generative.flows` works the same
    way). The chain repeats states when it rejects, so estimate errors from its
    autocorrelation (``independent=False`` in :mod:`qml_phys.generative.evaluate`).

    Args:
        module, params: a model with exact sampling (autoregressive).
        key: PRNG key.
        n: proposals (= chain length).
        log_target: ``(n, *shape) -> (n,)`` unnormalised ``log pi``, e.g. ``-E(s) / T``.
        burn_in: fraction of the chain dropped at its start (it starts at a draw of ``q``,
            not of ``pi``), in [0, 1).

    Returns:
        ``{"samples": (n - burn, *shape) float32 chain, "acceptance": float, "ess_fraction":
        float}`` with the normalised effective sample size of the importance weights
        ``pi / q`` of the proposals (1 for a perfect model).
    """
    n = check_positive_int("n", n, minimum=2)
    if not (0.0 <= burn_in < 1.0):
        raise InvalidParameterError(f"burn_in: expected a fraction in [0, 1); got {burn_in!r}")
    burn = min(int(burn_in * n), n - 2)
    k_x, k_u = jax.random.split(key)
    # proposals and their weights in chunks: one pass over 10^5 configurations of a 16x16
    # window model would hold (n, N, window) activations at once (tens of GB)
    chunk = max(1024, 2**21 // n_sites(module.shape))

    @functools.partial(jax.jit, static_argnums=1)
    def draw(k, m):  # proposals and their log importance weights log pi - log q
        s, log_q = sample_and_log_prob(module, params, k, m)
        return s, jnp.asarray(log_target(s), jnp.float32) - jnp.asarray(log_q, jnp.float32)

    if n <= chunk:
        x, log_w = draw(k_x, n)
    else:
        parts = [draw(jax.random.fold_in(k_x, i), chunk) for i in range(-(-n // chunk))]
        x = jnp.concatenate([p[0] for p in parts])[:n]
        log_w = jnp.concatenate([p[1] for p in parts])[:n]
    log_u = jnp.log(jax.random.uniform(k_u, (n,), jnp.float32))

    def step(cur, i):
        acc = log_u[i] < log_w[i] - log_w[cur]
        cur = jnp.where(acc, i, cur)
        return cur, (cur, acc)

    _, (idx, acc) = jax.lax.scan(step, jnp.int32(0), jnp.arange(1, n, dtype=jnp.int32))
    idx = jnp.concatenate([jnp.zeros(1, jnp.int32), idx])
    w = np.asarray(log_w, np.float64)
    w = np.exp(w - w.max())
    return {
        "samples": x[idx[burn:]],
        "acceptance": float(jnp.mean(acc.astype(jnp.float32))),
        "ess_fraction": float(w.sum() ** 2 / (n * np.sum(w * w))),
    }


def fingerprinted(checkpoint, **inputs):
    """``checkpoint`` (a :class:`~qml_phys.runtime.checkpoint.Checkpoint` or None) with
    ``inputs`` added to the inputs it fingerprints.

    :func:`qml_phys.train.fit` fingerprints its ``TrainConfig``; an algorithm adds what
    else decides its state (architecture, loss settings, the theory), so that a rerun with
    another of them is refused instead of resumed. ``None`` stays ``None``.
    """
    if checkpoint is None:
        return None
    return dataclasses.replace(checkpoint, inputs={**checkpoint.inputs, **inputs})


def promote_result(cls, result, **fields):
    """The :class:`~qml_phys.train.TrainResult` ``result`` as its subclass ``cls`` (a
    trained model's result) with the extra ``fields`` (``module``, ``config``, ...)."""
    own = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return cls(**(own | fields))


def symmetry_augment(key: jax.Array, s: jax.Array, *, translations: bool = False) -> jax.Array:
    """Each configuration ``(n, L, L)`` under a random symmetry of the zero-field Ising
    model on the torus: global spin flip, transpose, and reflection of either axis (the
    point group D4 times Z2; translations need no augmenting, the denoiser is a periodic
    CNN). The Boltzmann distribution is invariant, so this multiplies the data 16-fold.
    ``translations``: also roll the batch by one random lattice vector (for models that
    are not translation invariant, such as raster-order autoregressive ones)."""
    if translations:
        key, k_t = jax.random.split(key)
        shift = jax.random.randint(k_t, (2,), 0, jnp.array(s.shape[-2:]))
        s = jnp.roll(s, (shift[0], shift[1]), axis=(-2, -1))
    k = jax.random.bernoulli(key, 0.5, (4, s.shape[0]))
    b = lambda i: k[i][:, None, None]
    s = jnp.where(b(0), -s, s)
    s = jnp.where(b(1), jnp.swapaxes(s, -1, -2), s)
    s = jnp.where(b(2), s[:, ::-1, :], s)
    return jnp.where(b(3), s[:, :, ::-1], s)
