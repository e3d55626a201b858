r"""Variational autoencoder for Ising configurations (Bernoulli decoder over spins).

Kingma and Welling, arXiv:1312.6114; on the Ising model: S. J. Wetzel, PRE 95, 062122
(2017), arXiv:1703.02435 (the latent mean tracks the magnetization, the reconstruction
changes character at :math:`T_c`).

Model: encoder :math:`q_\phi(z|s) = N(\mu(s), \mathrm{diag}\,\sigma^2(s))`, prior
:math:`N(0, I)`, decoder :math:`p_\theta(s|z) = \prod_i \sigma(s_i\,\ell_i(z))` with
logits :math:`\ell(z)` (a product of Bernoullis over the spins ``s_i in {-1,+1}``).
Training maximises the ELBO
:math:`E_{q}[\log p_\theta(s|z)] - \beta\,\mathrm{KL}(q_\phi(z|s)\,\|\,N(0,I))` with the
reparametrisation trick (:func:`elbo_loss` for :func:`qml_phys.train.fit`).

Evaluation (:func:`analyse`): the correlation of each latent mean with ``m`` and with
``|m|`` (the model may encode either: the ±m symmetry lets a latent coordinate follow the
signed magnetization, or fold it), the reconstruction error per temperature, and samples
(z from the prior, spins from the decoder) against Monte Carlo via
:mod:`qml_phys.generative.evaluate`.

Shapes: spins ``(n, L, L)`` in {-1,+1} (any dtype); latents ``(n, latent)`` float32.
"""

from __future__ import annotations

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    ShapeError,
    UnknownNameError,
    check_number,
    check_positive_int,
)
from qml_phys.generative.base import fingerprinted, promote_result
from qml_phys.train import TrainResult

DECODERS = ("factorised", "autoregressive")


class IsingVAE(nn.Module):
    """Dense encoder/decoder VAE on ``L x L`` spins.

    ``decoder="factorised"``: ``p(s|z) = prod_i Bernoulli(s_i; sigma(l_i(z)))``, the
    standard choice, under which all correlations between spins must pass through ``z`` (a
    2-dimensional latent cannot carry the nearest-neighbour correlations of a
    configuration, so sampled energies are far from Monte Carlo even at T = 3).
    ``decoder="autoregressive"``: ``p(s|z) = prod_i p(s_i | s_<i, z)`` with logits
    ``l_i(z) + MADE(s_<i)_i`` (PixelVAE-style, Gulrajani et al., arXiv:1611.05013): local
    correlations from the masked network, the global state from ``z``; sampling is
    sequential over the sites.
    """

    L: int
    latent: int = 2
    """Latent dimension."""
    hidden: int = 128
    """Width of the hidden layer of the encoder and of the decoder."""
    decoder: str = "factorised"
    """One of :data:`DECODERS`."""

    def setup(self):
        if self.decoder not in DECODERS:
            raise UnknownNameError(f"decoder: expected one of {DECODERS}; got {self.decoder!r}")
        self.enc = nn.Dense(self.hidden)
        self.enc_out = nn.Dense(2 * self.latent)
        self.dec = nn.Dense(self.hidden)
        self.dec_out = nn.Dense(self.L * self.L)
        if self.decoder == "autoregressive":
            from qml_phys.generative.autoregressive import MADE

            self.made = MADE(shape=(self.L, self.L), hidden=(64,))

    def encode(self, s):
        """``(mean, log_var)`` ``(n, latent)`` of ``s`` ``(n, L, L)``."""
        h = nn.relu(self.enc(s.reshape(s.shape[0], -1).astype(jnp.float32)))
        out = self.enc_out(h)
        return out[:, : self.latent], out[:, self.latent :]

    def decode(self, z, s=None):
        """Logits ``(n, L, L)`` of p(s_i = +1 | z) (factorised), or of p(s_i = +1 | s_<i, z)
        (autoregressive, which needs ``s``; only ``s_<i`` enters logit ``i``)."""
        h = nn.relu(self.dec(z))
        logits = self.dec_out(h)
        if self.decoder == "autoregressive":
            if s is None:
                raise InvalidParameterError("the autoregressive decoder needs s (teacher forcing)")
            logits = logits + self.made.logits(s.reshape(s.shape[0], -1).astype(jnp.float32))
        return logits.reshape(z.shape[0], self.L, self.L)

    def __call__(self, s, key):
        mean, log_var = self.encode(s)
        z = mean + jnp.exp(0.5 * log_var) * jax.random.normal(key, mean.shape, mean.dtype)
        return self.decode(z, s), mean, log_var


def bernoulli_log_lik(logits: jax.Array, s: jax.Array) -> jax.Array:
    """Σ_i log σ(s_i ℓ_i) per configuration: ``(n,)``."""
    return jnp.sum(jax.nn.log_sigmoid(s.astype(logits.dtype) * logits), axis=(-2, -1))


def elbo_loss(module: IsingVAE, beta: float = 1.0):
    """:func:`qml_phys.train.fit` loss: the negative ELBO per configuration (nats).

    Metrics: ``recon_per_site`` (-E_q log p(s|z) / N) and ``kl`` (KL to the prior).
    """

    def loss_fn(params, batch, *, key, model_state, train):
        s = batch["x"]
        logits, mean, log_var = module.apply({"params": params}, s, key)
        rec = -bernoulli_log_lik(logits, s)
        kl = 0.5 * jnp.sum(jnp.exp(log_var) + mean * mean - 1.0 - log_var, axis=-1)
        loss = jnp.mean(rec + beta * kl)
        N = s.shape[-1] * s.shape[-2]
        return loss, ({"recon_per_site": jnp.mean(rec) / N, "kl": jnp.mean(kl)}, model_state)

    return loss_fn


@dataclasses.dataclass(frozen=True)
class VAEConfig:
    """Architecture and training of :func:`train_vae` (Adam; 10% of the data held out)."""

    latent: int = 2
    """Latent dimension."""
    hidden: int = 128
    """Width of the hidden layer of the encoder and of the decoder."""
    beta: float = 1.0
    """Weight of the KL term of the ELBO (1: the ELBO itself)."""
    decoder: str = "factorised"
    """One of :data:`DECODERS` (see :class:`IsingVAE`)."""
    epochs: int = 30
    """Passes over the training set."""
    batch_size: int = 128
    """Configurations per step."""
    learning_rate: float = 1e-3
    """Adam's learning rate."""

    def __post_init__(self):
        for name in ("latent", "hidden", "epochs", "batch_size"):
            check_positive_int(name, getattr(self, name))
        check_number("beta", self.beta, minimum=0, strict=True)
        if self.decoder not in DECODERS:
            raise UnknownNameError(f"decoder: expected one of {DECODERS}; got {self.decoder!r}")
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainedVAE(TrainResult):
    """What :func:`train_vae` returns: the training run (a
    :class:`~qml_phys.train.TrainResult` whose ``config`` is the :class:`VAEConfig`) and
    the module that ``params`` belong to."""

    module: IsingVAE
    """The VAE (configuration only)."""


def check_lattice_spins(spins, L: int | None = None) -> np.ndarray:
    """Validated ``(n, L, L)`` spins as float32 (raises ShapeError / InvalidParameterError)."""
    from qml_phys.generative.evaluate import check_spins

    a = np.asarray(spins)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or (L is not None and a.shape[1] != L):
        want = f"(n, {L}, {L})" if L is not None else "(n, L, L)"
        raise ShapeError(f"expected spins of shape {want}; got shape {a.shape}")
    check_spins(a)
    return a.astype(np.float32)


def train_vae(
    spins, config: VAEConfig = VAEConfig(), *, key: jax.Array, checkpoint=None
) -> TrainedVAE:
    """Fit an :class:`IsingVAE` to ``spins`` ``(n, L, L)`` (10% held out for validation).

    ``key``: PRNG key of the initial parameters and of training (split, batches, the
    reparametrisation noise). ``checkpoint``: a
    :class:`~qml_phys.runtime.checkpoint.Checkpoint` to save to and resume from.
    """
    from qml_phys.train import TrainConfig, fit

    x = check_lattice_spins(spins)
    module = IsingVAE(x.shape[1], config.latent, config.hidden, config.decoder)
    k_init, k_noise, k_fit = jax.random.split(key, 3)
    params = module.init(k_init, jnp.asarray(x[:2]), k_noise)["params"]
    tc = TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        label="VAE",
    )
    arch = {k: getattr(config, k) for k in ("latent", "hidden", "beta", "decoder")}
    res = fit(
        elbo_loss(module, config.beta),
        params,
        {"x": x},
        config=tc,
        key=k_fit,
        callbacks=() if checkpoint is None else (fingerprinted(checkpoint, vae=arch),),
    )
    return promote_result(TrainedVAE, res, config=config, module=module)


def encode(vae: TrainedVAE, spins) -> np.ndarray:
    """Latent means ``(n, latent)`` of ``spins``."""
    x = jnp.asarray(check_lattice_spins(spins, vae.module.L))
    f = jax.jit(lambda p, s: vae.module.apply({"params": p}, s, method="encode")[0])
    return np.asarray(f(vae.params, x))


def reconstruction_error(vae: TrainedVAE, spins) -> np.ndarray:
    """Per-configuration -log p(s | z = mean(s)) / N (nats per site): ``(n,)``."""
    x = jnp.asarray(check_lattice_spins(spins, vae.module.L))

    def f(p, s):
        mean, _ = vae.module.apply({"params": p}, s, method="encode")
        logits = vae.module.apply({"params": p}, mean, s, method="decode")
        return -bernoulli_log_lik(logits, s) / (s.shape[-1] * s.shape[-2])

    return np.asarray(jax.jit(f)(vae.params, x))


def sample_vae(vae: TrainedVAE, *, key: jax.Array, n: int) -> np.ndarray:
    """``n`` configurations ``(n, L, L)`` int8: z ~ N(0, I), then s ~ p(s | z) (independent
    Bernoulli sites, or site by site in raster order for the autoregressive decoder)."""
    n = check_positive_int("n", n)
    k_z, k_s = jax.random.split(key)
    module, params = vae.module, vae.params
    z = jax.random.normal(k_z, (n, module.latent), jnp.float32)
    L = module.L
    u = jax.random.uniform(k_s, (n, L * L), jnp.float32)
    if module.decoder != "autoregressive":
        logits = module.apply({"params": params}, z, method="decode").reshape(n, -1)
        return (
            np.where(np.asarray(u < jax.nn.sigmoid(logits)), 1, -1).astype(np.int8).reshape(n, L, L)
        )

    @jax.jit
    def run(z, u):
        def body(i, s):
            logits = module.apply({"params": params}, z, s, method="decode").reshape(n, -1)
            new = jnp.where(u[:, i] < jax.nn.sigmoid(logits[:, i]), 1.0, -1.0)
            return s.reshape(n, -1).at[:, i].set(new.astype(jnp.float32)).reshape(n, L, L)

        return jax.lax.fori_loop(0, L * L, body, jnp.zeros((n, L, L), jnp.float32))

    return np.asarray(run(z, u)).astype(np.int8)


def latent_correlations(latent_means: np.ndarray, m: np.ndarray) -> dict:
    """Pearson correlation of each latent mean with m and |m|; the best of each."""
    corr_m = [float(np.corrcoef(latent_means[:, i], m)[0, 1]) for i in range(latent_means.shape[1])]
    corr_a = [
        float(np.corrcoef(latent_means[:, i], np.abs(m))[0, 1])
        for i in range(latent_means.shape[1])
    ]
    i_m, i_a = int(np.nanargmax(np.abs(corr_m))), int(np.nanargmax(np.abs(corr_a)))
    best = "m" if abs(corr_m[i_m]) >= abs(corr_a[i_a]) else "|m|"
    return {
        "corr_with_m": corr_m,
        "corr_with_abs_m": corr_a,
        "best": {
            "observable": best,
            "latent": i_m if best == "m" else i_a,
            "corr": corr_m[i_m] if best == "m" else corr_a[i_a],
        },
    }


def analyse(vae: TrainedVAE, data) -> dict:
    """Latent/magnetization correlation and reconstruction error per temperature.

    ``data``: an :class:`~qml_phys.classical.datasets.IsingData` (all temperatures).
    Returns a JSON-ready dict with, per temperature, the mean reconstruction error
    (nats/site), its fluctuation ``N var(err)`` (a susceptibility-like quantity), the mean
    latent vector and the mean |m|; and the correlations over the whole grid.
    """
    spins = data.spins
    mu = encode(vae, spins)
    rec = reconstruction_error(vae, spins)
    m = np.asarray(data.magnetization, np.float64)
    N = spins.shape[1] * spins.shape[2]
    per_T = []
    for T in data.temperatures:
        sel = np.isclose(data.T, T)
        per_T.append(
            {
                "T": float(T),
                "recon_per_site": float(rec[sel].mean()),
                "recon_error": float(rec[sel].std(ddof=1) / math.sqrt(sel.sum())),
                "recon_fluctuation": float(N * rec[sel].var(ddof=1)),
                "latent_mean": mu[sel].mean(0).tolist(),
                "abs_latent_mean": np.abs(mu[sel]).mean(0).tolist(),
                "abs_m": float(np.abs(m[sel]).mean()),
            }
        )
    temps = np.array([r["T"] for r in per_T])
    recon = np.array([r["recon_per_site"] for r in per_T])
    slope = np.gradient(recon, temps) if len(temps) > 2 else np.zeros_like(recon)
    fluct = np.array([r["recon_fluctuation"] for r in per_T])
    return {
        "correlation": latent_correlations(mu, m),
        "per_temperature": per_T,
        "recon_steepest_rise_T": float(temps[int(np.argmax(slope))]),
        "recon_fluctuation_peak_T": float(temps[int(np.argmax(fluct))]),
        "latent_means": mu,
        "magnetization": m,
        "T": np.asarray(data.T),
    }
