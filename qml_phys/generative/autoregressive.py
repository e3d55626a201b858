r"""Autoregressive models of spin configurations with exact sampling.

All models factorise :math:`p(s) = \prod_{i=1}^{N} p(s_i \mid s_{<i})` in raster order
(site ``i = r * L + c``) with :math:`p(s_i = +1 \mid s_{<i}) = \sigma(\ell_i(s_{<i}))`, so

.. math:: \ln p(s) = \sum_i \ln \sigma(s_i\, \ell_i), \qquad s_i \in \{-1, +1\},

is normalised by construction and :func:`qml_phys.generative.base.sample` draws exact,
independent samples site by site (no Markov chain). Each module's ``logits(x)`` maps flat
``(n, N)`` float32 spins to the ``(n, N)`` conditional logits, ``logit_i`` a function of
``x_<i`` only; ``__call__(s)`` returns ``ln p(s)`` (see :mod:`qml_phys.generative.base` for
shapes).

* :class:`MADE` - masked dense network (Germain et al., ICML 2015, arXiv:1502.03509), with
  the direct masked input-output layer of the VAN paper's dense network;
* :class:`PixelCNN` - masked convolutions on the 2D lattice (van den Oord et al., ICML 2016,
  arXiv:1601.06759; used for the Ising model by Wu, Wang, Zhang, PRL 122, 080602 (2019),
  arXiv:1809.10606), zero padding, residual layers;
* :class:`RNN` - a GRU over the raster sequence (Hibat-Allah et al., PRR 2, 023358 (2020),
  arXiv:2002.02973, in its 1D form), sampled in one ``lax.scan``;
* :class:`LSTM` - the same recurrence with an LSTM cell (Hochreiter and Schmidhuber 1997);
* :class:`Transformer` - causal self-attention over the raster sequence (Vaswani et al.,
  arXiv:1706.03762);
* :class:`LocalAR` - a translation-invariant conditional network on each site's causal
  periodic window plus the running magnetisation, odd under a global spin flip (exactly
  Z2-symmetric); sampled in one ``lax.scan`` at the cost of one small network per site, so
  16x16 and larger lattices are cheap to sample (the PixelCNN needs ``N`` full passes);
* :class:`Z2Symmetric` - ``q(s) = (p(s) + p(-s)) / 2``, the spin-flip symmetrised model of
  the VAN paper; still normalised and exactly sampled (sample, then flip with probability
  1/2).
"""

from __future__ import annotations

import math
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, UnknownNameError
from qml_phys.generative.base import flatten_spins, n_sites, sample

__all__ = [
    "LSTM",
    "LocalAR",
    "MADE",
    "MODELS",
    "PixelCNN",
    "RNN",
    "Transformer",
    "Z2Symmetric",
    "make_model",
]


class _Autoregressive(nn.Module):
    """Shared ``__call__``: ``ln p(s) = sum_i log_sigmoid(s_i logit_i)``."""

    normalised: ClassVar[bool] = True
    exact_sampling: ClassVar[bool] = True

    def __call__(self, s) -> jax.Array:
        x, batch = flatten_spins(s, self.shape)
        logits = self.logits(x)
        return jnp.sum(jax.nn.log_sigmoid(x * logits), axis=-1).reshape(batch)


def _made_masks(N: int, hidden: tuple[int, ...]) -> list[np.ndarray]:
    """MADE connectivity masks ``(in, out)`` for natural order (arXiv:1502.03509, eq. 12-13)."""
    d_in = np.arange(1, N + 1)
    masks, prev = [], d_in
    for width in hidden:
        deg = np.arange(width) % max(N - 1, 1) + 1
        masks.append((deg[None, :] >= prev[:, None]).astype(np.float32))
        prev = deg
    masks.append((d_in[None, :] > prev[:, None]).astype(np.float32))
    return masks


class MADE(_Autoregressive):
    """Masked autoencoder for distribution estimation over ``N`` spins."""

    shape: tuple[int, ...]
    """Lattice shape, e.g. ``(L, L)``; ``N = prod(shape) >= 2``."""
    hidden: tuple[int, ...] = (64,)
    """Widths of the masked hidden layers (``()`` gives the VAN's one-layer dense model)."""
    direct: bool = True
    """Add a direct strictly-lower-triangular input-output connection."""

    @nn.compact
    def logits(self, x: jax.Array) -> jax.Array:
        N = n_sites(self.shape)
        masks = _made_masks(N, tuple(self.hidden))
        h = x
        for i, mask in enumerate(masks):
            fan_in = np.maximum(mask.sum(0), 1.0)
            w = self.param(
                f"w{i}",
                lambda k, m=mask, f=fan_in: (
                    jax.random.normal(k, m.shape, jnp.float32) * m / np.sqrt(f)[None, :]
                ).astype(jnp.float32),
            )
            b = self.param(f"b{i}", nn.initializers.zeros, (mask.shape[1],), jnp.float32)
            out = h @ (w * jnp.asarray(mask)) + b[None, :]
            h = nn.elu(out) if i < len(masks) - 1 else out
        if self.direct:
            tril = np.tril(np.ones((N, N), np.float32), -1).T  # (in j, out i): j < i
            wd = self.param("w_direct", nn.initializers.zeros, (N, N), jnp.float32)
            h = h + x @ (wd * jnp.asarray(tril))
        return h


def _causal_mask(k: int, kind: str, cin: int, cout: int) -> np.ndarray:
    m = np.zeros((k, k, cin, cout), np.float32)
    c = k // 2
    m[:c] = 1.0
    m[c, :c] = 1.0
    if kind == "B":
        m[c, c] = 1.0
    return m


class PixelCNN(_Autoregressive):
    """Masked-convolution autoregressive model of an ``L x L`` lattice (raster order)."""

    shape: tuple[int, int]
    """``(L, L)``."""
    features: int = 16
    """Channels of the hidden layers."""
    depth: int = 3
    """Number of masked convolutions before the 1x1 output layer (>= 1)."""
    kernel: int | None = None
    """Odd kernel size of the first (type A) layer (default ``min(2L - 1, 15)``: on small
    lattices it sees every earlier site, including the periodic neighbours that zero
    padding hides); later layers use 3."""

    def _conv(self, name: str, h, cout: int, k: int, kind: str):
        cin = h.shape[-1]
        mask = jnp.asarray(_causal_mask(k, kind, cin, cout))
        w = self.param(name, nn.initializers.lecun_normal(), (k, k, cin, cout), jnp.float32)
        b = self.param(name + "_b", nn.initializers.zeros, (cout,), jnp.float32)
        y = jax.lax.conv_general_dilated(
            h, w * mask, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        return y + b[None, None, None, :]

    @nn.compact
    def logits(self, x: jax.Array) -> jax.Array:
        kernel = min(2 * self.shape[0] - 1, 15) if self.kernel is None else self.kernel
        if len(self.shape) != 2 or kernel % 2 != 1:
            raise InvalidParameterError(
                f"PixelCNN: expected shape (L, L) and an odd kernel; got shape {self.shape}, "
                f"kernel {kernel}"
            )
        n = x.shape[0]
        h = x.reshape(n, *self.shape, 1)
        h = self._conv("conv0", h, self.features, kernel, "A")
        for d in range(1, self.depth):
            h = h + self._conv(f"conv{d}", nn.elu(h), self.features, 3, "B")
        out = self._conv("out", nn.elu(h), 1, 1, "B")
        return out.reshape(n, -1)


def _gru(p: dict, h: jax.Array, x: jax.Array, pos: jax.Array) -> jax.Array:
    """One GRU step: ``h (n, H)``, ``x (n, 1)``, ``pos (3H,)`` the site's learned bias."""
    H = h.shape[-1]
    b = p["b"] + pos
    gates = x @ p["w_x"][:, : 2 * H] + h @ p["w_h"] + b[None, : 2 * H]  # (n, 2H): z, r
    z = jax.nn.sigmoid(gates[:, :H])
    r = jax.nn.sigmoid(gates[:, H : 2 * H])
    cand = jnp.tanh(x @ p["w_x"][:, 2 * H :] + (r * h) @ p["w_c"] + b[None, 2 * H :])
    return (1.0 - z) * cand + z * h


def _lstm(p: dict, hc: jax.Array, x: jax.Array, pos: jax.Array) -> jax.Array:
    """One LSTM step: ``hc (n, 2H)`` the output ``h`` and cell ``c`` side by side, ``x (n, 1)``,
    ``pos (4H,)`` the site's learned bias; gates in the order input, forget, cell, output."""
    H = hc.shape[-1] // 2
    h, c = hc[:, :H], hc[:, H:]
    g = x @ p["w_x"] + h @ p["w_h"] + (p["b"] + pos)[None, :]  # (n, 4H)
    i = jax.nn.sigmoid(g[:, :H])
    f = jax.nn.sigmoid(g[:, H : 2 * H])
    c = f * c + i * jnp.tanh(g[:, 2 * H : 3 * H])
    h = jax.nn.sigmoid(g[:, 3 * H :]) * jnp.tanh(c)
    return jnp.concatenate([h, c], axis=-1)


def _forget_bias(key, shape, dtype=jnp.float32) -> jax.Array:
    """LSTM gate biases: 1 on the forget gate, 0 elsewhere (Jozefowicz et al., ICML 2015)."""
    H = shape[0] // 4
    return jnp.zeros(shape, dtype).at[H : 2 * H].set(1.0)


class RNN(_Autoregressive):
    """GRU over the raster sequence: ``h_i = GRU(h_{i-1}, s_{i-1}; i)``, ``logit_i = w.h_i + b_i``.

    The gates and the output carry a learned per-site bias, so that the recurrence knows
    where it is on the lattice (row starts, the periodic wrap): without it the 4x4 KL stalls
    near 0.043 nats whatever the width (measured).
    """

    shape: tuple[int, ...]
    hidden: int = 32
    """Recurrent width ``H``."""

    #: Size of the recurrent state in units of ``H`` and the step ``(params, state, x (n, 1),
    #: pos) -> state`` whose first ``H`` columns are the output ``h_i``.
    state_factor: ClassVar[int] = 1
    #: Gate pre-activations per step in units of ``H`` (the width of the per-site bias).
    gates: ClassVar[int] = 3
    cell: ClassVar = staticmethod(_gru)

    def _cell_params(self, H: int, init) -> dict:
        """The cell's weights and gate biases (GRU: update and reset gates, candidate)."""
        orth = nn.initializers.orthogonal()
        return {
            "w_x": self.param("w_x", init, (1, 3 * H), jnp.float32),
            "w_h": self.param("w_h", orth, (H, 2 * H), jnp.float32),
            "w_c": self.param("w_c", orth, (H, H), jnp.float32),
            "b": self.param("b", nn.initializers.zeros, (3 * H,), jnp.float32),
        }

    def _params(self) -> dict:
        H, N = self.hidden, n_sites(self.shape)
        init = nn.initializers.lecun_normal()
        return self._cell_params(H, init) | {
            "w_out": self.param("w_out", init, (H, 1), jnp.float32),
            "b_out": self.param("b_out", nn.initializers.zeros, (N,), jnp.float32),
            "pos": self.param("pos", nn.initializers.zeros, (N, self.gates * H), jnp.float32),
        }

    @nn.compact
    def logits(self, x: jax.Array) -> jax.Array:
        p = self._params()
        n, H = x.shape[0], self.hidden
        inputs = jnp.concatenate([jnp.zeros((n, 1), jnp.float32), x[:, :-1]], axis=1)

        def step(state, xs):
            xi, pos, b_out = xs
            state = self.cell(p, state, xi[:, None], pos)
            return state, (state[:, :H] @ p["w_out"])[:, 0] + b_out

        init = jnp.zeros((n, self.state_factor * H), jnp.float32)
        _, out = jax.lax.scan(step, init, (inputs.T, p["pos"], p["b_out"]))
        return out.T

    @staticmethod
    def sample_fn(module, params, key, n: int) -> jax.Array:
        """Exact sampling in one scan over the sites (O(N) recurrent steps)."""
        return RNN.sample_log_prob_fn(module, params, key, n)[0]

    @staticmethod
    def sample_log_prob_fn(module, params, key, n: int) -> tuple[jax.Array, jax.Array]:
        """Exact samples and their ``log p`` from the same scan (no second pass)."""
        N, H = n_sites(module.shape), module.hidden
        u = jax.random.uniform(key, (N, n), jnp.float32)

        def step(carry, xs):
            ui, pos, b_out = xs
            state, prev, lp = carry
            state = module.cell(params, state, prev[:, None], pos)
            logit = (state[:, :H] @ params["w_out"])[:, 0] + b_out
            s = jnp.where(ui < jax.nn.sigmoid(logit), 1.0, -1.0).astype(jnp.float32)
            return (state, s, lp + jax.nn.log_sigmoid(s * logit)), s

        zeros = jnp.zeros((n,), jnp.float32)
        init = (jnp.zeros((n, module.state_factor * H), jnp.float32), zeros, zeros)
        (_, _, lp), s = jax.lax.scan(step, init, (u, params["pos"], params["b_out"]))
        return s.T.reshape((n, *module.shape)), lp


class LSTM(RNN):
    """LSTM over the raster sequence (Hochreiter and Schmidhuber, Neural Comput. 9, 1735
    (1997)): ``(h_i, c_i) = LSTM(h_{i-1}, c_{i-1}, s_{i-1}; i)``, ``logit_i = w.h_i + b_i``.

    The :class:`RNN` with the GRU cell replaced: the same per-site learned biases on the
    gates and the output, the same one-scan exact sampler; the forget gate starts open
    (bias 1).
    """

    state_factor: ClassVar[int] = 2
    gates: ClassVar[int] = 4
    cell: ClassVar = staticmethod(_lstm)

    def _cell_params(self, H: int, init) -> dict:
        """The four gates' weights and biases (input, forget, cell, output)."""
        return {
            "w_x": self.param("w_x", init, (1, 4 * H), jnp.float32),
            "w_h": self.param("w_h", nn.initializers.orthogonal(), (H, 4 * H), jnp.float32),
            "b": self.param("b", _forget_bias, (4 * H,), jnp.float32),
        }


class Transformer(_Autoregressive):
    """Decoder-only Transformer over the raster sequence (pre-layer-norm, causal mask)."""

    shape: tuple[int, ...]
    d_model: int = 32
    heads: int = 2
    layers: int = 2

    @nn.compact
    def logits(self, x: jax.Array) -> jax.Array:
        n, N = x.shape
        inputs = jnp.concatenate([jnp.zeros((n, 1), jnp.float32), x[:, :-1]], axis=1)
        pos = self.param("pos", nn.initializers.normal(0.02), (N, self.d_model), jnp.float32)
        h = nn.Dense(self.d_model)(inputs[..., None]) + pos[None]
        mask = nn.make_causal_mask(inputs)
        for _ in range(self.layers):
            a = nn.MultiHeadDotProductAttention(num_heads=self.heads)(nn.LayerNorm()(h), mask=mask)
            h = h + a
            m = nn.Dense(2 * self.d_model)(nn.LayerNorm()(h))
            h = h + nn.Dense(self.d_model)(nn.gelu(m))
        return nn.Dense(1)(nn.LayerNorm()(h))[..., 0]


def _window_tables(L: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Each site's periodic ``(2r+1)^2 - 1`` window: neighbour indices ``(N, K)`` int32 and
    ``(N, K)`` bool ``earlier`` (the neighbour precedes the site in raster order)."""
    offsets = [
        (dy, dx)
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
        if (dy, dx) != (0, 0)
    ]
    N = L * L
    i, j = np.divmod(np.arange(N), L)
    dy = np.array([o[0] for o in offsets])
    dx = np.array([o[1] for o in offsets])
    nb = ((i[:, None] + dy[None, :]) % L) * L + (j[:, None] + dx[None, :]) % L
    return nb.astype(np.int32), nb < np.arange(N)[:, None]


class LocalAR(_Autoregressive):
    r"""Autoregressive model whose conditionals see a local periodic window.

    ``logit_i = g(x_i, m_i, a_i, i/N) - g(-x_i, -m_i, a_i, i/N)`` with ``x_i`` the spins of
    site ``i``'s periodic ``(2r+1) x (2r+1)`` window that come before ``i`` in raster order
    (zero elsewhere), ``a_i`` that availability pattern, ``m_i = \sum_{j<i} s_j / i`` the
    running magnetisation, and ``g`` one MLP shared by all sites (translation invariant,
    like a PixelCNN, but with the torus's wrapped neighbours in view). The difference
    makes the logit odd, so ``p(-s) = p(s)`` exactly - the conditionals of any Z2-symmetric
    distribution have this form, so nothing is lost. Sampling is one ``lax.scan`` over
    the sites evaluating ``g`` at one site per step.
    """

    shape: tuple[int, int]
    """``(L, L)``."""
    radius: int = 3
    """Window half-width ``r`` (capped at ``(L - 1) // 2`` so the window does not wrap onto
    itself)."""
    hidden: tuple[int, ...] = (64, 64)
    """Widths of the MLP ``g``."""

    def _tables(self):
        if len(self.shape) != 2 or self.shape[0] != self.shape[1] or self.shape[0] < 2:
            raise InvalidParameterError(
                f"LocalAR: expected a square lattice shape (L, L) with L >= 2; got {self.shape}"
            )
        L = self.shape[0]
        r = max(1, min(int(self.radius), (L - 1) // 2))
        return _window_tables(L, r)

    def _params(self, K: int) -> dict:
        widths = (2 * K + 2, *self.hidden, 1)
        p = {}
        for d, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            last = d == len(widths) - 2
            init = nn.initializers.zeros if last else nn.initializers.lecun_normal()
            p[f"w{d}"] = self.param(f"w{d}", init, (a, b), jnp.float32)
            p[f"b{d}"] = self.param(f"b{d}", nn.initializers.zeros, (b,), jnp.float32)
        return p

    @staticmethod
    def _logit(p: dict, x, m, a, pos) -> jax.Array:
        """``g(x, m, a, pos) - g(-x, -m, a, pos)``; ``x, a (..., K)``, ``m, pos (...)``."""
        depth = len(p) // 2

        def g(sign):
            h = jnp.concatenate([sign * x, a, (sign * m)[..., None], pos[..., None]], axis=-1)
            for d in range(depth):
                h = h @ p[f"w{d}"] + p[f"b{d}"].reshape((1,) * (h.ndim - 1) + (-1,))
                if d < depth - 1:
                    h = nn.elu(h)
            return h[..., 0]

        return g(1.0) - g(-1.0)

    @nn.compact
    def logits(self, x: jax.Array) -> jax.Array:
        nb, earlier = self._tables()
        p = self._params(nb.shape[1])
        N = x.shape[1]
        a = jnp.asarray(earlier, jnp.float32)
        xw = x[:, nb] * a[None]  # (n, N, K)
        count = jnp.maximum(jnp.arange(N, dtype=jnp.float32), 1.0)
        m = (jnp.cumsum(x, axis=1) - x) / count[None, :]
        pos = jnp.arange(N, dtype=jnp.float32) / N
        return self._logit(p, xw, m, jnp.broadcast_to(a, xw.shape), jnp.broadcast_to(pos, m.shape))

    @staticmethod
    def sample_fn(module, params, key, n: int) -> jax.Array:
        """Exact sampling in one scan over the sites (one window MLP per site and step)."""
        return LocalAR.sample_log_prob_fn(module, params, key, n)[0]

    @staticmethod
    def sample_log_prob_fn(module, params, key, n: int) -> tuple[jax.Array, jax.Array]:
        """Exact samples and their ``log p`` from the same scan (no second pass)."""
        nb, earlier = module._tables()
        N = n_sites(module.shape)
        u = jax.random.uniform(key, (N, n), jnp.float32)
        a = jnp.asarray(earlier, jnp.float32)

        def step(carry, xs):
            s, total, lp = carry
            k, nbk, ak, uk = xs
            kf = k.astype(jnp.float32)
            m = total / jnp.maximum(kf, 1.0)
            logit = LocalAR._logit(
                params,
                s[:, nbk] * ak[None],
                m,
                jnp.broadcast_to(ak, (n, ak.shape[0])),
                jnp.full((n,), kf / N, jnp.float32),
            )
            sk = jnp.where(uk < jax.nn.sigmoid(logit), 1.0, -1.0).astype(jnp.float32)
            lp = lp + jax.nn.log_sigmoid(sk * logit)
            return (s.at[:, k].set(sk), total + sk, lp), None

        zeros = jnp.zeros((n,), jnp.float32)
        init = (jnp.zeros((n, N), jnp.float32), zeros, zeros)
        (s, _, lp), _ = jax.lax.scan(
            step, init, (jnp.arange(N, dtype=jnp.int32), jnp.asarray(nb), a, u)
        )
        return s.reshape((n, *module.shape)), lp


class Z2Symmetric(nn.Module):
    """Spin-flip symmetrised model ``q(s) = (p(s) + p(-s)) / 2`` of a normalised ``base``."""

    base: nn.Module
    normalised: ClassVar[bool] = True
    exact_sampling: ClassVar[bool] = True

    @property
    def shape(self) -> tuple[int, ...]:
        return self.base.shape

    def __call__(self, s) -> jax.Array:
        x, batch = flatten_spins(s, self.base.shape)
        lp = jnp.logaddexp(self.base(x), self.base(-x)) - jnp.float32(math.log(2.0))
        return lp.reshape(batch)

    @staticmethod
    def sample_fn(module, params, key, n: int) -> jax.Array:
        k1, k2 = jax.random.split(key)
        s = sample(module.base, params["base"], k1, n)
        flip = jnp.where(jax.random.bernoulli(k2, 0.5, (n,)), 1.0, -1.0).astype(jnp.float32)
        return s * flip.reshape((n,) + (1,) * (s.ndim - 1))


MODELS = {
    "made": MADE,
    "pixelcnn": PixelCNN,
    "rnn": RNN,
    "lstm": LSTM,
    "transformer": Transformer,
    "local": LocalAR,
}
"""The autoregressive architectures by name."""


def make_model(name: str, L: int, *, z2: bool = False, **kwargs) -> nn.Module:
    """An autoregressive model of the ``L x L`` lattice by name.

    ``name``: ``made|pixelcnn|rnn|lstm|transformer|local``; ``kwargs`` go to the module;
    ``z2`` wraps it in :class:`Z2Symmetric`.
    """
    if name not in MODELS:
        raise UnknownNameError(
            f"expected an autoregressive model in {', '.join(MODELS)}; got {name!r}"
        )
    model = MODELS[name](shape=(int(L), int(L)), **kwargs)
    return Z2Symmetric(model) if z2 else model
