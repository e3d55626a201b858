r"""Normalizing flows for lattice :math:`\phi^4` theory, used as exact MCMC proposals.

Albergo, Kanwar, Shanahan, PRD 100, 034515 (2019), arXiv:1904.12072 (and the tutorial
arXiv:2101.08176); RealNVP: Dinh, Sohl-Dickstein, Bengio, arXiv:1605.08803.

* :class:`RealNVP` - ``n_layers`` affine coupling layers with alternating checkerboard
  masks on the periodic ``L x L`` lattice. Each layer keeps the sites of one parity
  frozen and maps the others as :math:`x \to x\,e^{s} + t`, with ``s, t`` from a small
  periodic CNN of the frozen sites; the log-Jacobian is :math:`\sum s`. The prior
  :math:`r(z)` is i.i.d. N(0, 1) per site, so :math:`\log q(x) = \log r(z) - \log|J|`
  exactly. With ``z2=True`` (the default) every layer is odd, :math:`f(-z) = -f(z)`
  (``t`` odd and ``s`` even in the frozen field), so :math:`q(-x) = q(x)` like
  :math:`e^{-S}`: the flow cannot favour one sign of the field, the failure of
  mode-seeking reverse-KL training near the transition (Nicoli et al., PRL 126, 032001
  (2021), use the same symmetry).
* :func:`reverse_kl_loss` - training without data by minimising
  :math:`E_{x\sim q}[\log q(x) + S(x)] = \mathrm{KL}(q\,\|\,p) - \log Z \ge -\log Z`
  on fresh samples every step (:func:`qml_phys.train.fit` with ``data=None``), by default
  with the path gradient (the zero-mean score term dropped, ``log q`` of each draw from
  :meth:`RealNVP.inverse` at fixed parameters): 8x8 at E2, dense 8 x 64, batch 128, 2x10^4
  steps: acceptance 0.439 against 0.312 with the total gradient, for 1.5x the time.
* :func:`flow_mcmc` - independence Metropolis: propose :math:`x' \sim q`, accept with
  :math:`\min(1, \frac{p(x')q(x)}{p(x)q(x')})`. The chain samples :math:`e^{-S}` exactly
  whatever the flow's quality; a good flow only makes it decorrelate faster.
* :func:`flow_vs_hmc` - the comparison with Hybrid Monte Carlo
  (:mod:`qml_phys.classical.hmc`): observables with error bars, acceptance, the effective
  sample size of the importance weights, integrated autocorrelation times and the cost
  per independent sample in wall time.

Shapes: fields ``(n, L, L)`` float32.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import TYPE_CHECKING, Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import (
    InvalidParameterError,
    UnknownNameError,
    check_number,
    check_positive_int,
)
from qml_phys.generative.base import fingerprinted, promote_result
from qml_phys.physics.phi4 import Phi4
from qml_phys.runtime.results import Result, ran
from qml_phys.train import TrainResult

if TYPE_CHECKING:
    from qml_phys.classical.hmc import HMCConfig


def checkerboard(L: int, parity: int) -> jax.Array:
    """``(L, L)`` float32 mask: 1 on sites with ``(x + y) % 2 == parity``."""
    x = jnp.arange(L)
    return ((x[:, None] + x[None, :]) % 2 == parity).astype(jnp.float32)


class _CouplingNet(nn.Module):
    hidden: int
    n_hidden_layers: int
    kernel: int

    @nn.compact
    def __call__(self, x):  # (n, L, L, 1) -> s, t: (n, L, L)
        h = x
        for _ in range(self.n_hidden_layers):
            h = nn.Conv(self.hidden, (self.kernel, self.kernel), padding="CIRCULAR")(h)
            h = nn.leaky_relu(h)
        out = nn.Conv(
            2, (self.kernel, self.kernel), padding="CIRCULAR", kernel_init=nn.initializers.zeros
        )(h)
        return jnp.tanh(out[..., 0]), out[..., 1]


class _OddEvenNet(nn.Module):
    """Coupling network with ``t`` odd and ``s`` even in its input, for a Z2-odd flow.

    Bias-free layers with ``tanh`` make every hidden feature ``h`` odd; ``t`` is a
    bias-free linear map of ``h`` (odd) and ``s`` a map of ``h * h`` (even).
    """

    hidden: int
    n_hidden_layers: int
    n_out: int | None = None
    """``None``: convolutions on ``(n, L, L, 1)``; an int: dense layers, ``(n, V/2)``."""

    @nn.compact
    def __call__(self, x):
        if self.n_out is None:
            layer = lambda c, **kw: nn.Conv(c, (3, 3), padding="CIRCULAR", **kw)  # noqa: E731
            n_out = 1
        else:
            layer = nn.Dense
            n_out = self.n_out
        h = x
        for _ in range(self.n_hidden_layers):
            h = jnp.tanh(layer(self.hidden, use_bias=False)(h))
        zeros = nn.initializers.zeros
        t = layer(n_out, use_bias=False, kernel_init=zeros)(h)
        s = layer(n_out, kernel_init=zeros)(h * h)
        if self.n_out is None:
            s, t = s[..., 0], t[..., 0]
        return jnp.tanh(s), t


class _MLPNet(nn.Module):
    n_out: int
    hidden: int
    n_hidden_layers: int

    @nn.compact
    def __call__(self, x):  # (n, V/2) frozen sites -> s, t: (n, n_out)
        h = x
        for _ in range(self.n_hidden_layers):
            h = nn.leaky_relu(nn.Dense(self.hidden)(h))
        out = nn.Dense(2 * self.n_out, kernel_init=nn.initializers.zeros)(h)
        return jnp.tanh(out[:, : self.n_out]), out[:, self.n_out :]


class RealNVP(nn.Module):
    """Affine-coupling flow z -> x on an ``L x L`` torus with checkerboard masks."""

    L: int
    """Linear lattice size (even, so that the checkerboard is consistent on the torus)."""
    n_layers: int = 8
    """Coupling layers (masks alternate between the two parities)."""
    hidden: int = 8
    """Channels per convolution (``net="cnn"``) or width of each hidden layer ("mlp")."""
    n_hidden_layers: int = 2
    """Hidden layers per coupling network."""
    net: str = "cnn"
    """``cnn``: periodic 3x3 convolutions as in arXiv:2101.08176 (translation-equivariant);
    ``mlp``: a dense network from the V/2 frozen sites to (s, t) of the V/2 others, the
    two sublattices kept as dense halves. It needs more steps than the CNN (after 1000
    its reverse-KL loss was -7.4 against -10.8), but a pass costs 2.0 us per sample on 2
    CPU cores at L = 8 against the CNN's 56, so it is far better per second: 8 x 64,
    batch 1024, 1.2x10^5 path-gradient steps reached acceptance 0.835 (tau_int 0.74)."""
    z2: bool = True
    """Odd coupling layers (``t`` odd, ``s`` even), so ``q(-x) = q(x)``. On 8x8 at
    Albergo et al.'s E2 point, 8 layers x 8 channels, 2000 steps, same cost per sample:
    tau_int(|M|) of the flow chain 16.8 against 65.8 without it, ESS 0.091 against 0.031."""

    def setup(self):
        if self.net not in ("cnn", "mlp"):
            raise UnknownNameError(f"net: expected 'cnn' or 'mlp'; got {self.net!r}")
        half = self.L * self.L // 2
        if self.z2:
            n_out = None if self.net == "cnn" else half
            self.nets = [
                _OddEvenNet(self.hidden, self.n_hidden_layers, n_out) for _ in range(self.n_layers)
            ]
        elif self.net == "cnn":
            self.nets = [
                _CouplingNet(self.hidden, self.n_hidden_layers, 3) for _ in range(self.n_layers)
            ]
        else:
            self.nets = [
                _MLPNet(half, self.hidden, self.n_hidden_layers) for _ in range(self.n_layers)
            ]

    def __call__(self, z):
        """``(x, log_det)``: ``x = f(z)`` ``(n, L, L)`` and ``log|det df/dz|`` ``(n,)``."""
        return self._couplings(z, inverse=False)

    def inverse(self, x):
        """``(z, log_det)``: ``z = f^{-1}(x)`` and ``log|det df/dz|`` at that ``z`` (the same
        number the forward pass gives), so ``log q(x) = log r(z) - log_det``."""
        return self._couplings(x, inverse=True)

    def _couplings(self, v, *, inverse: bool):
        n, L = v.shape[0], self.L
        layers = reversed(range(self.n_layers)) if inverse else range(self.n_layers)

        def update(a, s, t):
            return (a - t) * jnp.exp(-s) if inverse else a * jnp.exp(s) + t

        log_det = jnp.zeros(n, v.dtype)
        if self.net == "mlp":
            # the two sublattices as two dense halves, permuted in and out once (as exact
            # permutation-matrix products: XLA fuses those into the action, not gathers)
            perm = jnp.asarray(_sublattice_permutation(L), v.dtype)
            exact = jax.lax.Precision.HIGHEST
            flat = jnp.matmul(v.reshape(n, L * L), perm, precision=exact)
            halves = [flat[:, : L * L // 2], flat[:, L * L // 2 :]]
            for i in layers:
                frozen, active = i % 2, 1 - i % 2
                s, t = self.nets[i](halves[frozen])
                halves[active] = update(halves[active], s, t)
                log_det = log_det + jnp.sum(s, axis=-1)
            flat = jnp.matmul(jnp.concatenate(halves, axis=-1), perm.T, precision=exact)
            return flat.reshape(n, L, L), log_det
        for i in layers:
            m = checkerboard(L, i % 2).astype(v.dtype)[None]
            s, t = self.nets[i]((v * m)[..., None])
            s = s * (1 - m)
            v = v * m + (1 - m) * update(v, s, t)
            log_det = log_det + jnp.sum(s, axis=(-2, -1))
        return v, log_det


def _parity_sites(L: int, parity: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the frozen (mask 1) and active sites of a checkerboard layer."""
    x = np.arange(L)
    m = ((x[:, None] + x[None, :]) % 2 == parity).ravel()
    return np.flatnonzero(m), np.flatnonzero(~m)


def _sublattice_permutation(L: int) -> np.ndarray:
    """``(V, V)`` 0/1 matrix ``P`` with ``(flat @ P)`` = the parity-0 sites, then parity-1."""
    order = np.concatenate(_parity_sites(L, 0))
    perm = np.zeros((L * L, L * L), np.float32)
    perm[order, np.arange(L * L)] = 1.0
    return perm


def prior_log_prob(z: jax.Array) -> jax.Array:
    """log N(z; 0, 1) summed over sites: ``(n,)``."""
    return jnp.sum(-0.5 * z * z - 0.5 * math.log(2 * math.pi), axis=(-2, -1))


def sample_flow(module: RealNVP, params, key: jax.Array, n: int):
    """``(x, log_q)``: ``n`` exact draws ``(n, L, L)`` float32 and their log-density."""
    z = jax.random.normal(key, (n, module.L, module.L), jnp.float32)
    x, log_det = module.apply({"params": params}, z)
    return x, prior_log_prob(z) - log_det


def init_flow(module: RealNVP, *, key: jax.Array):
    from qml_phys.runtime.resources import check_init_memory

    example = jnp.zeros((1, module.L, module.L), jnp.float32)
    check_init_memory("the flow", module.init, key, example)
    return module.init(key, example)["params"]


ESTIMATORS = ("path", "total")
DEFAULT_HIDDEN = {"cnn": 8, "mlp": 64}
"""Default ``hidden`` per ``net`` for the CLI, the study and the benchmark."""


def reverse_kl_loss(module: RealNVP, theory: Phi4, batch_size: int, estimator: str = "path"):
    """A :func:`qml_phys.train.fit` loss (``data=None``): mean of ``log q(x) + S(x)``.

    ``estimator`` chooses the gradient; both are unbiased for ``∇ KL(q‖p)``:

    * ``total``: differentiate ``log q_θ(x_θ(z)) + S(x_θ(z))`` in θ throughout
      (reparameterisation);
    * ``path`` (default): drop the score term ``∂_θ log q_θ(x)`` at fixed ``x``, whose
      expectation is zero, by evaluating ``log q`` of the drawn ``x`` with the inverse flow
      and the parameters held constant (Roeder, Wu, Duvenaud, NeurIPS 2017; for lattice
      flows Vaitl et al., Mach. Learn.: Sci. Technol. 3, 045020 (2022)). Its variance
      vanishes as q -> p, so training keeps improving where the total gradient stalls;
      it costs one inverse pass more per step.

    Metrics: ``ess`` (the normalised effective sample size of the importance weights
    ``e^{-S - log q}`` of the batch, 1 for a perfect flow) and ``action``.
    """
    if estimator not in ESTIMATORS:
        raise UnknownNameError(f"estimator: expected one of {ESTIMATORS}; got {estimator!r}")

    def loss_fn(params, batch, *, key, model_state, train):
        if estimator == "total":
            x, log_q = sample_flow(module, params, key, batch_size)
        else:
            x, _ = sample_flow(module, params, key, batch_size)
            fixed = {"params": jax.lax.stop_gradient(params)}
            z_back, log_det = module.apply(fixed, x, method=RealNVP.inverse)
            log_q = prior_log_prob(z_back) - log_det
        S = theory.action(x)
        loss = jnp.mean(log_q + S)
        return loss, ({"ess": ess_fraction(-S - log_q), "action": jnp.mean(S)}, model_state)

    return loss_fn


def ess_fraction(log_w: jax.Array) -> jax.Array:
    """(Σw)² / (n Σw²) of importance weights given as logs (scale-free)."""
    w = jnp.exp(log_w - jnp.max(log_w))
    return jnp.sum(w) ** 2 / (log_w.shape[0] * jnp.sum(w * w))


@dataclasses.dataclass(frozen=True)
class FlowConfig:
    """Architecture and training of the flow (defaults: small enough for 2 CPU cores).

    Training (:func:`train_flow`): Adam with a cosine schedule to zero and the gradient
    norm clipped at 10, ``epochs * steps_per_epoch`` steps of ``batch_size`` fresh draws.
    """

    n_layers: int = 8
    """Coupling layers (see :class:`RealNVP`)."""
    hidden: int = 8
    """Channels per convolution (``cnn``) or width of each hidden layer (``mlp``);
    :data:`DEFAULT_HIDDEN` gives the usual one per ``net``."""
    n_hidden_layers: int = 2
    """Hidden layers per coupling network."""
    net: str = "cnn"
    """Coupling networks: ``cnn`` or ``mlp`` (see :class:`RealNVP`)."""
    z2: bool = True
    """Odd coupling layers, so that ``q(-x) = q(x)`` (see :class:`RealNVP`)."""
    estimator: str = "path"
    """Reverse-KL gradient: ``path`` or ``total`` (see :func:`reverse_kl_loss`)."""
    epochs: int = 20
    """Blocks of ``steps_per_epoch`` optimisation steps (one checkpoint per block)."""
    steps_per_epoch: int = 100
    """Optimisation steps per epoch."""
    batch_size: int = 128
    """Flow draws per step."""
    learning_rate: float = 1e-3
    """Peak learning rate of the cosine schedule."""

    def __post_init__(self):
        for name in ("n_layers", "hidden", "n_hidden_layers", "epochs", "steps_per_epoch"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("batch_size", self.batch_size, minimum=2)
        if self.net not in ("cnn", "mlp"):
            raise UnknownNameError(f"net: expected 'cnn' or 'mlp'; got {self.net!r}")
        if self.estimator not in ESTIMATORS:
            raise UnknownNameError(
                f"estimator: expected one of {ESTIMATORS}; got {self.estimator!r}"
            )
        if not isinstance(self.z2, bool):
            raise InvalidParameterError(f"z2: expected True or False; got {self.z2!r}")
        check_number("learning_rate", self.learning_rate, minimum=0, strict=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainedFlow(TrainResult):
    """What :func:`train_flow` returns: the training run (a
    :class:`~qml_phys.train.TrainResult` whose ``config`` is the :class:`FlowConfig`;
    ``history`` per epoch: ``train_loss`` (``E_q[log q + S]``), ``ess``, ``action``,
    ``seconds``), the flow and its theory."""

    module: RealNVP
    """The flow (configuration only)."""
    theory: Phi4
    """The theory it was trained on."""


def train_flow(
    theory: Phi4, config: FlowConfig = FlowConfig(), *, key: jax.Array, checkpoint=None
) -> TrainedFlow:
    """Train a :class:`RealNVP` on ``theory`` by reverse KL (no data needed).

    ``key``: PRNG key of the initial parameters and of the draws. ``checkpoint``: a
    :class:`~qml_phys.runtime.checkpoint.Checkpoint` to save to and resume from (its
    fingerprint also holds the theory and the architecture). A non-finite loss stops
    training cleanly with ``status="diverged"`` (see :func:`qml_phys.train.fit`).
    """
    from qml_phys.train import TrainConfig, fit

    if theory.L % 2:
        raise InvalidParameterError(
            f"expected an even L for checkerboard couplings on the torus; got L={theory.L}"
        )
    module = RealNVP(
        theory.L, config.n_layers, config.hidden, config.n_hidden_layers, config.net, config.z2
    )
    k_init, k_fit = jax.random.split(key)
    params = init_flow(module, key=k_init)
    tc = TrainConfig(
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        learning_rate=config.learning_rate,
        schedule="cosine",
        grad_clip=10.0,
        validation_fraction=0.0,
        label="flow (reverse KL)",
    )
    flow = {
        k: getattr(config, k)
        for k in ("n_layers", "hidden", "n_hidden_layers", "net", "z2", "estimator", "batch_size")
    }
    checkpoint = fingerprinted(
        checkpoint, theory={"L": theory.L, "m2": theory.m2, "lam": theory.lam}, flow=flow
    )
    res = fit(
        reverse_kl_loss(module, theory, config.batch_size, config.estimator),
        params,
        None,
        config=tc,
        key=k_fit,
        callbacks=() if checkpoint is None else (checkpoint,),
    )
    return promote_result(TrainedFlow, res, config=config, module=module, theory=theory)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FlowMCMCResult(Result):
    """What :func:`flow_mcmc` returns. ``config``: ``{"n_samples", "n_chains"}``;
    ``history``: per chain step, ``acceptance`` (the fraction of chains that accepted)."""

    samples: np.ndarray
    """``(n_chains, n_per_chain, L, L)`` the Markov chains (exact samples of e^{-S})."""
    acceptance: float
    """Fraction of accepted proposals."""
    ess: float
    """Normalised effective sample size of the importance weights of all proposals."""
    seconds_per_sample: float
    """``wall_time_s`` (proposing and accepting, compilation excluded) per sample."""

    reported = ("acceptance", "seconds_per_sample")

    def summary(self) -> dict:
        """``acceptance``, ``ess_fraction``, ``n_samples``, ``seconds_per_sample``, ..."""
        return super().summary() | {
            "ess_fraction": self.ess,
            "n_samples": int(self.samples.shape[0] * self.samples.shape[1]),
        }


def flow_log_prob(module: RealNVP, params, x: jax.Array) -> jax.Array:
    """``log q(x)`` ``(n,)`` of fields ``x`` ``(n, L, L)`` under the flow (inverse pass)."""
    z, log_det = module.apply({"params": params}, x, method=RealNVP.inverse)
    return prior_log_prob(z) - log_det


def _mixture_chains(flow: TrainedFlow, key, x, log_w, log_u, local):
    """Chains ``(n_chains, per, L, L)`` of the composite kernel: an independence step with
    the flow's proposal, then one HMC trajectory of ``local`` (step jittered as in
    :func:`~qml_phys.classical.hmc.run_hmc`). Both steps leave e^{-S} invariant; the HMC
    step moves the chain where the flow rarely proposes (its tails), where a pure
    independence sampler sticks on the rare heavy-weight draw."""
    from qml_phys.classical.hmc import hmc_sweep

    module, params, theory = flow.module, flow.params, flow.theory
    per = log_w.shape[1]

    def action(v):
        return theory.action(v[None])[0]

    def grad(v):
        return theory.grad(v[None])[0]

    def log_weight(v):  # (n_chains, L, L) -> (n_chains,)
        return -theory.action(v) - flow_log_prob(module, params, v)

    def step(carry, inp):
        cur, cur_w = carry
        new, new_w, lu, k = inp
        acc = lu < new_w - cur_w
        cur = jnp.where(acc[:, None, None], new, cur)
        cur = hmc_sweep(k, cur, action, grad, local)[0]
        return (cur, log_weight(cur)), (cur, acc)

    keys = jax.random.split(key, per - 1)
    xs_t = jnp.swapaxes(x, 0, 1)  # (per, n_chains, L, L): scanned over time
    lw_t, lu_t = log_w.T, log_u.T
    (_, _), (chain, acc) = jax.lax.scan(
        step, (xs_t[0], lw_t[0]), (xs_t[1:], lw_t[1:], lu_t[1:], keys)
    )
    chain = jnp.concatenate([xs_t[:1], chain], axis=0)
    return jnp.swapaxes(chain, 0, 1), acc.T


def flow_mcmc(
    flow: TrainedFlow,
    *,
    key: jax.Array,
    n_samples: int,
    n_chains: int = 4,
    local: HMCConfig | None = None,
) -> FlowMCMCResult:
    """Independence Metropolis with the flow as proposal, ``n_chains`` chains in parallel.

    Each chain starts from its first proposal (accepted), so no thermalisation is needed
    beyond what the acceptance rate implies; all ``n_samples`` proposals are made in one
    batch and the accept/reject runs as a ``lax.scan`` per chain.

    With ``local`` (an :class:`~qml_phys.classical.hmc.HMCConfig`; its ``step_size``,
    ``n_leapfrog`` and ``step_jitter`` are used) every independence step is followed by one
    HMC trajectory. A pure independence sampler whose flow is narrower than the target (a
    briefly trained flow, acceptance ~0.3) sticks for long stretches on the rare draw from
    the target's tails: its estimates come out biased and their error bars too small
    (free field, L = 6, acceptance 0.31: RMS z 3.4 over 20 runs, docs/guide/calibration.md).
    The local moves explore the tails, so the chain mixes and its errors hold.
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=2 * n_chains)
    n_chains = check_positive_int("n_chains", n_chains)
    per = n_samples // n_chains
    module, params, theory = flow.module, flow.params, flow.theory

    @jax.jit
    def run(key):
        if local is not None:
            k_x, k_u, k_local = jax.random.split(key, 3)
            x, log_q = sample_flow(module, params, k_x, per * n_chains)
            log_w = -theory.action(x) - log_q
            x = x.reshape(n_chains, per, *x.shape[1:])
            log_u = jnp.log(jax.random.uniform(k_u, (n_chains, per), jnp.float32))
            xs, acc = _mixture_chains(flow, k_local, x, log_w.reshape(n_chains, per), log_u, local)
            return xs, acc, ess_fraction(log_w)
        k_x, k_u = jax.random.split(key)
        x, log_q = sample_flow(module, params, k_x, per * n_chains)
        log_w = -theory.action(x) - log_q
        x = x.reshape(n_chains, per, *x.shape[1:])
        lw = log_w.reshape(n_chains, per)
        log_u = jnp.log(jax.random.uniform(k_u, (n_chains, per), jnp.float32))

        def chain(lwc, luc):  # the accept/reject on weights alone; states by index after
            def step(carry, inp):
                cur_i, cur_w = carry
                new_i, new_w, lu = inp
                acc = lu < new_w - cur_w
                cur = (jnp.where(acc, new_i, cur_i), jnp.where(acc, new_w, cur_w))
                return cur, (cur[0], acc)

            idx = jnp.arange(per)
            _, (ids, acc) = jax.lax.scan(step, (idx[0], lwc[0]), (idx[1:], lwc[1:], luc[1:]))
            return jnp.concatenate([idx[:1], ids]), acc

        ids, acc = jax.vmap(chain)(lw, log_u)
        xs = jnp.take_along_axis(x, ids[:, :, None, None], axis=1)
        return xs, acc, ess_fraction(log_w)

    compiled = run.lower(key).compile()
    t0 = time.perf_counter()
    xs, acc, ess = compiled(key)
    xs = np.asarray(jax.block_until_ready(xs))
    seconds = time.perf_counter() - t0
    acc = np.asarray(acc, np.float64)  # (n_chains, per - 1)
    return FlowMCMCResult(
        config={
            "n_samples": n_samples,
            "n_chains": n_chains,
            "local": None if local is None else dataclasses.asdict(local),
        },
        history={"acceptance": acc.mean(axis=0)},
        wall_time_s=seconds,
        samples=xs,
        acceptance=float(acc.mean()),
        ess=float(ess),
        seconds_per_sample=seconds / (per * n_chains),
    )


# --------------------------------------------------------------------------- comparison
def chain_estimates(chains: np.ndarray) -> dict:
    """``{phi2, abs_m, chi, g1}`` of chains ``(n_chains, n, L, L)``: mean, error, tau_int,
    n_eff (autocorrelation-aware, :func:`qml_phys.stats.estimate`)."""
    from qml_phys.physics.phi4 import observables
    from qml_phys.stats import estimate

    obs = observables(chains)
    out = {}
    for name in ("phi2", "abs_m", "chi", "g1"):
        e = estimate(obs[name], warn=False)
        out[name] = {"mean": e.mean, "error": e.error, "tau_int": e.tau_int, "n_eff": e.n_eff}
    return out


def two_point_curve(chains: np.ndarray) -> dict:
    """Zero-momentum correlator C(t) = (1/L) Σ_{x,y} G(x, t) per configuration, averaged
    over chains with a naive (independent-blocks-of-chains) error: ``{"t", "mean", "error"}``.
    """
    from qml_phys.physics.phi4 import two_point

    g = np.asarray(two_point(jnp.asarray(chains)), np.float64)  # (c, n, L, L)
    L = g.shape[-1]
    c_t = g.sum(axis=-1) * 1.0  # sum over the spatial direction: (c, n, L)
    per_chain = c_t.mean(axis=1)
    # blocks: 10 blocks per chain, errors from the block spread
    blocks = np.array_split(c_t, 10, axis=1)
    bm = np.stack([b.mean(axis=1) for b in blocks], 1).reshape(-1, L)
    return {
        "t": list(range(L)),
        "mean": per_chain.mean(axis=0).tolist(),
        "error": (bm.std(axis=0, ddof=1) / math.sqrt(bm.shape[0])).tolist(),
    }


@dataclasses.dataclass(frozen=True)
class FlowVsHMCConfig:
    """Settings of :func:`flow_vs_hmc`: the flow, and how much each sampler records."""

    flow: FlowConfig = FlowConfig()
    """Architecture and training of the flow."""
    n_samples: int = 20000
    """Configurations each sampler records (all chains together)."""
    n_chains: int = 4
    """Flow-MCMC chains."""
    hmc_chains: int | None = None
    """Parallel HMC chains (default ``n_chains``; on a GPU many parallel HMC chains are
    HMC's best use of the device, so give it that when comparing wall time there)."""
    hmc_step_size: float = 0.08
    """HMC leapfrog step. With ``hmc_leapfrog`` the trajectory length 0.08 x 25 = 2: at
    8x8, E2, 16 chains on a CPU, lengths 2 to 2.5 gave the lowest wall time per
    independent |M| among lengths 0.6 to 4 (tau_int(|M|) 0.98 against 2.37 at length 1)."""
    hmc_leapfrog: int = 25
    """Leapfrog steps per HMC trajectory."""
    local_hmc: bool = False
    """Follow every flow-MCMC step by one HMC trajectory (``hmc_step_size``,
    ``hmc_leapfrog``): see :func:`flow_mcmc`'s ``local``; for briefly trained flows, whose
    pure independence chains leave the tails out."""

    def __post_init__(self):
        if not isinstance(self.flow, FlowConfig):
            raise InvalidParameterError(
                f"flow: expected a FlowConfig; got {type(self.flow).__name__}"
            )
        check_positive_int("n_chains", self.n_chains)
        check_positive_int("n_samples", self.n_samples, minimum=2 * self.n_chains)
        check_positive_int("hmc_leapfrog", self.hmc_leapfrog)
        if self.hmc_chains is not None:
            check_positive_int("hmc_chains", self.hmc_chains)
        check_number("hmc_step_size", self.hmc_step_size, minimum=0, strict=True)
        if self.n_samples // self.chains_hmc < 20:
            raise InvalidParameterError(
                f"expected at least 20 HMC samples per chain (n_samples // hmc_chains); got "
                f"n_samples={self.n_samples}, hmc_chains={self.chains_hmc}"
            )

    @property
    def chains_hmc(self) -> int:
        """The number of HMC chains (``hmc_chains``, or ``n_chains`` when None)."""
        return self.n_chains if self.hmc_chains is None else self.hmc_chains


@dataclasses.dataclass(frozen=True, kw_only=True)
class FlowVsHMCResult(Result):
    """What :func:`flow_vs_hmc` returns. ``history`` and ``status`` are the flow's training
    ones; :meth:`summary` is the comparison (a JSON-ready dict)."""

    theory: Phi4
    flow: TrainedFlow
    """The trained flow."""
    mcmc: FlowMCMCResult
    """The flow-MCMC chains."""
    hmc: Any
    """The :class:`~qml_phys.classical.hmc.HMCResult` (chains and timing)."""
    observables: dict
    """Per observable (``phi2``, ``abs_m``, ``chi``, ``g1``): ``flow`` and ``hmc`` (mean,
    error, tau_int, n_eff), their ``z``, and each sampler's wall-time cost per independent
    sample ``2 tau_int * seconds_per_sample``."""
    device: str
    """``platform: device kind`` of the first JAX device."""

    def summary(self) -> dict:
        """The comparison: ``L, m2, lam, n_samples, n_chains, device``, ``flow`` (config,
        training, acceptance, ESS, timing, ``loss_history``), ``hmc``, ``observables``,
        ``two_point`` (both samplers' C(t)), ``agree_within_2_sigma``, ``abs_m_tau_int``
        and ``abs_m_cheaper_with_flow_per_wall_time``."""
        cfg, flow, fm, hmc = self.config, self.flow, self.mcmc, self.hmc
        comparison = self.observables
        abs_m = comparison["abs_m"]
        return {
            "L": self.theory.L,
            "m2": self.theory.m2,
            "lam": self.theory.lam,
            "n_samples": int(fm.samples.shape[0] * fm.samples.shape[1]),
            "n_chains": cfg.n_chains,
            "device": self.device,
            "flow": {
                "config": dataclasses.asdict(cfg.flow),
                "training_status": flow.status,
                "training_seconds": flow.wall_time_s,
                "final_loss": flow.final("train_loss"),
                "final_batch_ess": flow.final("ess"),
                "loss_history": [float(v) for v in flow.history.get("train_loss", [])],
                "acceptance": fm.acceptance,
                "local_hmc": cfg.local_hmc,
                "ess_fraction": fm.ess,
                "sampling_seconds": fm.wall_time_s,
                "seconds_per_sample": fm.seconds_per_sample,
            },
            "hmc": {
                "step_size": cfg.hmc_step_size,
                "n_leapfrog": cfg.hmc_leapfrog,
                "acceptance": hmc.acceptance,
                "mean_exp_minus_dH": hmc.mean_exp_minus_dH,
                "n_chains": cfg.chains_hmc,
                "seconds": hmc.wall_time_s,
                "seconds_per_sample": hmc.seconds_per_sample / cfg.chains_hmc,
            },
            "observables": comparison,
            "two_point": {
                "flow": two_point_curve(fm.samples),
                "hmc": two_point_curve(hmc.samples),
            },
            "agree_within_2_sigma": all(
                c["z"] is not None and abs(c["z"]) < 2 for c in comparison.values()
            ),
            "abs_m_tau_int": {"flow": abs_m["flow"]["tau_int"], "hmc": abs_m["hmc"]["tau_int"]},
            "abs_m_cheaper_with_flow_per_wall_time": abs_m["flow_cost_per_independent_sample_s"]
            < abs_m["hmc_cost_per_independent_sample_s"],
        }


def flow_vs_hmc(
    theory: Phi4,
    config: FlowVsHMCConfig = FlowVsHMCConfig(),
    *,
    key: jax.Array,
    checkpoint=None,
) -> FlowVsHMCResult:
    """Train a flow, sample φ⁴ with flow-MCMC and with HMC, compare.

    Both samplers record ``config.n_samples`` configurations, the flow in
    ``config.n_chains`` chains and HMC in ``config.hmc_chains``. HMC records every
    trajectory of length ``hmc_step_size * hmc_leapfrog`` after a tenth of its chain
    length (at least 10) of thermalisation trajectories; its cost per sample is the wall
    time per trajectory. For each observable: mean ± error (from tau_int), the difference
    in combined error bars, tau_int in samples, and the wall-time cost per independent
    sample ``2 tau_int * seconds_per_sample`` (training time reported apart).

    Args:
        theory: the lattice theory (even ``L``).
        config: the flow and the samplers' settings.
        key: PRNG key of the flow's training, its chains, and HMC's start and momenta.
        checkpoint: a :class:`~qml_phys.runtime.checkpoint.Checkpoint` for the flow's
            training (see :func:`train_flow`).
    """
    from qml_phys.classical.hmc import HMCConfig, run_hmc
    from qml_phys.runtime.resources import check_memory

    t0 = time.perf_counter()
    hmc_chains = config.chains_hmc
    hmc_per = config.n_samples // hmc_chains
    # both samplers' float32 configurations, their proposals and log-weights, before training
    check_memory(
        f"{config.n_samples} phi^4 configurations of {theory.L} x {theory.L} per sampler",
        4 * 4.0 * config.n_samples * theory.L**2,
    )
    k_train, k_f, k_h, k_0 = jax.random.split(key, 4)
    flow = train_flow(theory, config.flow, key=k_train, checkpoint=checkpoint)
    x0 = 0.1 * jax.random.normal(k_0, (hmc_chains, theory.L, theory.L), jnp.float32)
    hmc_config = HMCConfig(
        n_samples=hmc_per,
        step_size=config.hmc_step_size,
        n_leapfrog=config.hmc_leapfrog,
        n_therm=max(hmc_per // 10, 10),
    )
    local = hmc_config if config.local_hmc else None
    fm = flow_mcmc(flow, key=k_f, n_samples=config.n_samples, n_chains=config.n_chains, local=local)
    hmc = run_hmc(theory.action, x0, hmc_config, key=k_h, grad=theory.grad)
    hmc_sps = hmc.seconds_per_sample / hmc_chains
    est_f, est_h = chain_estimates(fm.samples), chain_estimates(hmc.samples)
    comparison = {}
    for name in est_f:
        a, b = est_f[name], est_h[name]
        err = math.hypot(a["error"], b["error"])
        comparison[name] = {
            "flow": a,
            "hmc": b,
            "z": (a["mean"] - b["mean"]) / err if err > 0 else None,  # not measured
            "flow_cost_per_independent_sample_s": 2 * a["tau_int"] * fm.seconds_per_sample,
            "hmc_cost_per_independent_sample_s": 2 * b["tau_int"] * hmc_sps,
        }
    dev = jax.devices()[0]
    return FlowVsHMCResult(
        **ran(config, flow, since=t0),
        theory=theory,
        flow=flow,
        mcmc=fm,
        hmc=hmc,
        observables=comparison,
        device=f"{dev.platform}: {dev.device_kind}",
    )
