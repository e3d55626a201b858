r"""Discrete (spin-flip) diffusion model for Ising configurations, D3PM-style.

Austin et al., "Structured denoising diffusion models in discrete state-spaces",
arXiv:2107.03006 (D3PM); Sohl-Dickstein et al., arXiv:1503.03585.

Forward process: infinite-temperature Glauber dynamics in continuous time. Each spin
flips independently at rate 1, so after time ``t``

.. math::

    q(s_t | s_0) = \prod_i \tfrac12\,(1 + e^{-2t} s_{t,i} s_{0,i}),

i.e. each spin is flipped with probability :math:`(1 - e^{-2t})/2` (a random telegraph
process; the steps compose: over :math:`[t_{k-1}, t_k]` the flip correlation is
:math:`a_k = e^{-2(t_k - t_{k-1})}`, cumulatively :math:`\bar a_k = e^{-2 t_k}`).

Reverse process: a network predicts, per site, the posterior mean
:math:`\mu_i = E[s_{0,i} | s_t]` (the "x0-parametrisation"); one reverse step samples each
site from the forward posterior averaged over that prediction,
:math:`p(s_{k-1,i} \mid s_k) = \sum_{s_0} p_\theta(s_{0,i} | s_k)\,
q(s_{k-1,i} \mid s_{k,i}, s_{0,i})` (:func:`reverse_step_probability`), which is exact
per site when the prediction is the true posterior marginal. Training minimises the
cross-entropy of the prediction of :math:`s_0` from :math:`s_t` at random ``t`` (D3PM's
auxiliary loss, the simplified objective). Correlations between sites are built over the
reverse steps; each step is factorised over sites.

Shapes: spins ``(n, L, L)`` in {-1,+1}; times ``(n,)`` float32.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import check_number, check_positive_int
from qml_phys.generative.base import fingerprinted, promote_result, symmetry_augment
from qml_phys.train import TrainResult


def flip_probability(t):
    """Probability (1 - e^{-2t})/2 that a spin has flipped after time ``t`` >= 0."""
    return 0.5 * (1.0 - jnp.exp(-2.0 * t))


def forward_sample(key: jax.Array, s0: jax.Array, t: jax.Array) -> jax.Array:
    """Draw s_t ~ q(s_t | s_0) for ``s0`` ``(n, L, L)`` and times ``t`` ``(n,)``."""
    p = flip_probability(t)[:, None, None]
    flip = jax.random.uniform(key, s0.shape, jnp.float32) < p
    return jnp.where(flip, -s0, s0)


def time_grid(n_steps: int, t_max: float) -> np.ndarray:
    """``(n_steps + 1,)`` times 0 = t_0 < ... < t_K = t_max, denser at small t
    (quadratic spacing), float32."""
    u = np.linspace(0.0, 1.0, n_steps + 1)
    return (t_max * u**2).astype(np.float32)


class Denoiser(nn.Module):
    """Predicts logits of p(s_0,i = +1 | s_t, t): a periodic CNN (translation-equivariant,
    as the Ising distribution is) on the spins and a time embedding, plus the exact logit
    of independent spins."""

    L: int
    """Linear lattice size."""
    hidden: int = 32
    """Channels per convolution."""
    n_hidden_layers: int = 3
    """Hidden 3x3 convolutions (receptive field 2 * layers + 3 sites)."""

    @nn.compact
    def __call__(self, s, t):
        n = s.shape[0]
        freqs = jnp.asarray([1.0, 2.0, 4.0, 8.0], jnp.float32)
        emb = jnp.concatenate(
            [
                jnp.sin(t[:, None] * freqs[None]),
                jnp.cos(t[:, None] * freqs[None]),
                jnp.exp(-2 * t)[:, None],
            ],
            -1,
        )  # (n, 9)
        x = s.astype(jnp.float32)[..., None]
        h = jnp.concatenate(
            [x, jnp.broadcast_to(emb[:, None, None, :], (n, self.L, self.L, 9))], -1
        )
        for _ in range(self.n_hidden_layers):
            h = nn.silu(nn.Conv(self.hidden, (3, 3), padding="CIRCULAR")(h))
        out = nn.Conv(1, (3, 3), padding="CIRCULAR")(h)[..., 0]
        # the exact logit for independent uniform spins, 2 s_t artanh(e^{-2t}): at small t
        # the clean spin is the noisy one; the network learns the correction
        skip = 2.0 * x[..., 0] * jnp.arctanh(jnp.clip(jnp.exp(-2 * t), 0.0, 0.999))[:, None, None]
        return out + skip


def denoising_loss(module: Denoiser, t_max: float, augment: bool = True):
    """:func:`qml_phys.train.fit` loss: cross-entropy (nats/site) of s_0 given s_t, t ~ U.

    Times are drawn uniformly in [0, t_max] on the square-root scale (as the grid); with
    ``augment`` every batch passes through :func:`symmetry_augment`.
    """

    def loss_fn(params, batch, *, key, model_state, train):
        k_t, k_f, k_a = jax.random.split(key, 3)
        s0 = symmetry_augment(k_a, batch["x"]) if augment else batch["x"]
        u = jax.random.uniform(k_t, (s0.shape[0],), jnp.float32)
        t = t_max * u * u
        st = forward_sample(k_f, s0, t)
        logits = module.apply({"params": params}, st, t)
        ce = -jnp.mean(jax.nn.log_sigmoid(s0 * logits))
        return ce, ({"cross_entropy_per_site": ce}, model_state)

    return loss_fn


@dataclasses.dataclass(frozen=True)
class DiffusionConfig:
    """Denoiser, noise schedule and training of :func:`train_diffusion` (Adam with a
    cosine schedule; 10% of the data held out)."""

    hidden: int = 48
    """Channels of the denoiser's convolutions."""
    layers: int = 5
    """Hidden 3x3 convolutions of the denoiser (receptive field ``2 * layers + 3``)."""
    n_steps: int = 100
    """Reverse steps K of :func:`sample_diffusion`."""
    t_max: float = 3.0
    """Final forward time (flip probability (1 - e^{-6})/2 = 0.4988 at the default)."""
    epochs: int = 100
    """Passes over the training set."""
    batch_size: int = 128
    """Configurations per step."""
    learning_rate: float = 1e-3
    """Peak learning rate of the cosine schedule."""

    def __post_init__(self):
        for name in ("hidden", "layers", "n_steps", "epochs", "batch_size"):
            check_positive_int(name, getattr(self, name))
        check_number("t_max", self.t_max, minimum=0, strict=True)
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainedDiffusion(TrainResult):
    """What :func:`train_diffusion` returns: the training run (a
    :class:`~qml_phys.train.TrainResult` whose ``config`` is the :class:`DiffusionConfig`)
    and the denoiser that ``params`` belong to."""

    module: Denoiser
    """The denoiser (configuration only)."""


def train_diffusion(
    spins, config: DiffusionConfig = DiffusionConfig(), *, key: jax.Array, checkpoint=None
) -> TrainedDiffusion:
    """Fit the denoiser on ``spins`` ``(n, L, L)`` (10% held out) with the shared trainer.

    ``key``: PRNG key of the initial parameters and of training. ``checkpoint``: a
    :class:`~qml_phys.runtime.checkpoint.Checkpoint` to save to and resume from.
    """
    from qml_phys.generative.vae import check_lattice_spins
    from qml_phys.train import TrainConfig, fit

    x = check_lattice_spins(spins)
    module = Denoiser(x.shape[1], config.hidden, config.layers)
    k_init, k_fit = jax.random.split(key)
    params = module.init(k_init, jnp.asarray(x[:1]), jnp.zeros((1,), jnp.float32))["params"]
    tc = TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        schedule="cosine",
        label="diffusion",
    )
    arch = {"hidden": config.hidden, "layers": config.layers, "t_max": config.t_max}
    checkpoint = fingerprinted(checkpoint, diffusion=arch)
    res = fit(
        denoising_loss(module, config.t_max),
        params,
        {"x": x},
        config=tc,
        key=k_fit,
        callbacks=() if checkpoint is None else (checkpoint,),
    )
    return promote_result(TrainedDiffusion, res, config=config, module=module)


def reverse_step_probability(s_k, mu, a_k, abar_prev):
    r"""P(s_{k-1,i} = +1 | s_k) given the predicted posterior mean ``mu`` of s_{0,i}.

    Per site, exactly :math:`\sum_{s_0} p(s_0|s_k)\, q(s_{k-1} | s_k, s_0)` with
    :math:`q(s_{k-1}=x | s_k, s_0) = (1 + a_k x s_k)(1 + \bar a_{k-1} x s_0) /
    (2(1 + \bar a_k s_k s_0))` and :math:`\bar a_k = a_k \bar a_{k-1}`; ``mu`` is
    E[s_{0,i} | s_k], so p(s_0 = ±1 | s_k) = (1 ± mu)/2.
    """
    abar_k = a_k * abar_prev
    up = 1.0 + a_k * s_k

    def q_up(s0):
        return up * (1.0 + abar_prev * s0) / (2.0 * (1.0 + abar_k * s_k * s0))

    return 0.5 * (1.0 + mu) * q_up(1.0) + 0.5 * (1.0 - mu) * q_up(-1.0)


def sample_diffusion(model: TrainedDiffusion, *, key: jax.Array, n: int) -> np.ndarray:
    """``n`` configurations ``(n, L, L)`` int8: start from uniform spins, K reverse steps."""
    n = check_positive_int("n", n)
    L = model.module.L
    ts = jnp.asarray(time_grid(model.config.n_steps, model.config.t_max))
    a = jnp.exp(-2.0 * (ts[1:] - ts[:-1]))  # (K,) step correlations a_k
    abar = jnp.exp(-2.0 * ts)  # (K+1,)

    @jax.jit
    def run(key):
        k0, kr = jax.random.split(key)
        s = jnp.where(jax.random.bernoulli(k0, 0.5, (n, L, L)), 1.0, -1.0).astype(jnp.float32)

        def step(s, inp):
            k, key = inp  # k = K..1
            t = jnp.full((n,), ts[k], jnp.float32)
            mu = jnp.tanh(0.5 * model.module.apply({"params": model.params}, s, t))
            p_up = reverse_step_probability(s, mu, a[k - 1], abar[k - 1])
            s = jnp.where(jax.random.uniform(key, s.shape, jnp.float32) < p_up, 1.0, -1.0)
            return s.astype(jnp.float32), None

        K = model.config.n_steps
        ks = jnp.arange(K, 0, -1)
        s, _ = jax.lax.scan(step, s, (ks, jax.random.split(kr, K)))
        return s

    return np.where(np.asarray(run(key)) > 0, 1, -1).astype(np.int8)
