r"""Flax networks for phase classification and unsupervised order-parameter discovery.

Every module takes spins ``(n, L, L)`` (int8 in {-1, +1} or float) and a ``train`` keyword
(the :func:`qml_phys.train.flax_loss` convention: dropout draws from the ``"dropout"`` rng
stream when ``train=True``). Spins are cast to float32 inside.

* :class:`DenseClassifier` — Carrasquilla & Melko, Nat. Phys. 13, 431 (2017),
  arXiv:1605.01735: the configuration flattened into a fully connected layer of sigmoid
  units, then two logits (class 1 = ordered, ``T < T_c``). Its parameters depend on
  ``L`` (input size ``L * L``).
* :class:`ConvClassifier` — a convolution with periodic (circular) padding, ReLU, an average
  over sites, then a small dense head. Its parameters do not depend on ``L``, so one network
  classifies every lattice size.
* :class:`Autoencoder` — Wetzel, PRE 96, 022140 (2017), arXiv:1703.02435: a dense encoder to
  ``latent`` units and a decoder to one logit per site (Bernoulli reconstruction of
  ``(s + 1) / 2``); the latent variable learns the magnetization.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from qml_phys.errors import ShapeError, UnknownNameError

MODELS = ("dense", "cnn")


def _as_images(x) -> jnp.ndarray:
    if x.ndim != 3 or x.shape[1] != x.shape[2]:
        raise ShapeError(f"expected spins of shape (n, L, L); got shape {tuple(x.shape)}")
    return x.astype(jnp.float32)


class DenseClassifier(nn.Module):
    """One hidden layer, two logits (index 1: ordered). Input ``(n, L, L)``, output ``(n, 2)``."""

    hidden: int = 100
    """Hidden units (the paper: 100 sigmoid units)."""
    dropout: float = 0.0
    """Dropout rate on the hidden layer in training mode (0 for none)."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = _as_images(x)
        h = nn.sigmoid(nn.Dense(self.hidden)(x.reshape(x.shape[0], -1)))
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
        return nn.Dense(2)(h)


class ConvClassifier(nn.Module):
    """Periodic convolution, ReLU, site average, dense head. ``(n, L, L)`` -> ``(n, 2)``."""

    features: int = 8
    """Convolution channels."""
    kernel: int = 3
    """Kernel side (``kernel x kernel``), circular padding (periodic lattice)."""
    hidden: int = 16
    """Units of the dense head (tanh)."""
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = _as_images(x)[..., None]
        h = nn.Conv(self.features, (self.kernel, self.kernel), padding="CIRCULAR")(x)
        h = jnp.mean(nn.relu(h), axis=(1, 2))
        h = nn.tanh(nn.Dense(self.hidden)(h))
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
        return nn.Dense(2)(h)


class Autoencoder(nn.Module):
    """Dense autoencoder ``(n, L, L)`` -> reconstruction logits ``(n, L, L)``.

    :meth:`encode` gives the latent variables ``(n, latent)``.
    """

    n_sites: int
    """``L * L``, the size of the reconstruction."""
    latent: int = 1
    """Latent units (linear)."""
    hidden: int = 64
    """Units of the hidden layer of encoder and decoder (tanh)."""

    def setup(self):
        self.enc_hidden = nn.Dense(self.hidden)
        self.enc_out = nn.Dense(self.latent)
        self.dec_hidden = nn.Dense(self.hidden)
        self.dec_out = nn.Dense(self.n_sites)

    def encode(self, x):
        x = _as_images(x)
        if x.shape[1] * x.shape[2] != self.n_sites:
            raise ShapeError(
                f"expected spins with L * L = {self.n_sites} sites; got shape {tuple(x.shape)}"
            )
        return self.enc_out(nn.tanh(self.enc_hidden(x.reshape(x.shape[0], -1))))

    def __call__(self, x, train: bool = False):
        z = self.encode(x)
        return self.dec_out(nn.tanh(self.dec_hidden(z))).reshape(x.shape)


def make_classifier(name: str, **options) -> nn.Module:
    """A classifier by name: ``"dense"`` (:class:`DenseClassifier`) or ``"cnn"``."""
    if name == "dense":
        return DenseClassifier(**options)
    if name == "cnn":
        return ConvClassifier(**options)
    raise UnknownNameError(f"model: expected one of {', '.join(MODELS)}; got {name!r}")
