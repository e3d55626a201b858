r"""Denoising diffusion (DDPM) for continuous lattice :math:`\phi^4` fields, against HMC.

Ho, Jain, Abbeel, "Denoising diffusion probabilistic models", NeurIPS 2020,
arXiv:2006.11239, with noise prediction, in the continuous-time form of the variance
preserving process (Song et al., ICLR 2021, arXiv:2011.13456), so that one trained network
is sampled with any number of denoising steps ``K``.

Fields are standardised, :math:`x = \phi / \sigma` with :math:`\sigma^2` the training
fields' mean :math:`\phi^2` per site. Forward process, :math:`t \in [0, 1]`:

.. math::

    x_t = \sqrt{\bar\alpha(t)}\, x_0 + \sqrt{1 - \bar\alpha(t)}\, \varepsilon, \qquad
    \bar\alpha(t) = e^{-\beta_{\min} t - (\beta_{\max} - \beta_{\min}) t^2 / 2},

the continuous limit of Ho et al.'s linear schedule (:math:`\beta_{\min} = 0.1`,
:math:`\beta_{\max} = 20` is theirs, :math:`\beta_i = 10^{-4} \dots 0.02` over 1000 steps;
:math:`\bar\alpha(1) = 4 \times 10^{-5}`). A periodic CNN :math:`\varepsilon_\theta(x_t, t)`
(translation equivariant, and odd under :math:`\phi \to -\phi` when ``z2``, as the exact
noise predictor of a symmetric theory is) is trained on
:math:`E\,\|\varepsilon - \varepsilon_\theta\|^2` per site (Ho et al.'s simplified loss)
on HMC configurations with random lattice symmetries. It predicts the correction to
:math:`\sqrt{1-\bar\alpha}\,x_t`, the exact predictor for independent unit-variance sites.

Sampling: :math:`x_1 \sim N(0, 1)`, then ``K`` ancestral steps on the uniform grid
:math:`t_k = k / K` (Ho et al., eq. 11): for a step from :math:`t` to :math:`s < t`,
:math:`\alpha = \bar\alpha(t)/\bar\alpha(s)`,

.. math::

    x_s = \frac{1}{\sqrt\alpha}\Big(x_t - \frac{1 - \alpha}{\sqrt{1 - \bar\alpha(t)}}
    \varepsilon_\theta(x_t, t)\Big) + \sigma z, \qquad
    \sigma^2 = 1 - \alpha \;\; (\texttt{"beta"}) \quad\text{or}\quad
    \tfrac{(1 - \alpha)(1 - \bar\alpha(s))}{1 - \bar\alpha(t)} \;\; (\texttt{"posterior"}).

Ho et al. note that :math:`\sigma^2 = \beta` is optimal for :math:`x_0 \sim N(0, 1)` and
:math:`\tilde\beta` (``posterior``) for a point mass; with standardised fields ``beta``
(the default) keeps the variance of independent unit-variance sites exact for any ``K``,
while ``posterior`` shrinks it at small ``K`` (measured: <phi^2> 30% low at K = 20 on the
4x4 lattice).

The samples are independent but **not exact**: the network's error and the finite ``K``
bias every observable, and nothing corrects it (no Metropolis step; compare
:mod:`qml_phys.generative.flows`). :func:`compare_with_hmc` measures that bias against HMC:
per observable (:func:`qml_phys.physics.phi4.observables`: ``phi2``, ``abs_m``, ``chi``,
``g1``) the diffusion mean with its independent-sample error, the HMC mean with its
autocorrelation-aware error (:func:`qml_phys.stats.estimate`), and the z-score.

Shapes: fields ``(n, L, L)`` float32; times ``(n,)`` float32.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from typing import Any

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
from qml_phys.generative.base import fingerprinted, promote_result, symmetry_augment
from qml_phys.physics.phi4 import Phi4
from qml_phys.runtime.resources import check_memory
from qml_phys.runtime.results import Result, ran
from qml_phys.train import TrainResult

__all__ = [
    "OBSERVABLES",
    "REVERSE_VARIANCES",
    "DiffusionVsHMCConfig",
    "DiffusionVsHMCResult",
    "BiasScan",
    "NoisePredictor",
    "Phi4DiffusionConfig",
    "TrainedPhi4Diffusion",
    "alpha_bar",
    "bias_scan",
    "compare_with_hmc",
    "diffusion_vs_hmc",
    "hmc_fields",
    "noise_prediction_loss",
    "sample",
    "train_phi4_diffusion",
]

#: The observables compared (:func:`qml_phys.physics.phi4.observables`).
OBSERVABLES = ("phi2", "abs_m", "chi", "g1")
#: Variances of a denoising step (:attr:`Phi4DiffusionConfig.reverse_variance`).
REVERSE_VARIANCES = ("beta", "posterior")


def alpha_bar(t, beta_min: float = 0.1, beta_max: float = 20.0):
    """Signal fraction :math:`\\bar\\alpha(t)` of the variance-preserving process, ``t``
    in [0, 1]."""
    return jnp.exp(-beta_min * t - 0.5 * (beta_max - beta_min) * t * t)


class NoisePredictor(nn.Module):
    """:math:`\\varepsilon_\\theta(x_t, t)`: a periodic CNN on the field and a time embedding."""

    L: int
    """Linear lattice size."""
    hidden: int = 16
    """Channels per convolution."""
    layers: int = 3
    """Hidden 3x3 circular convolutions (receptive field ``2 * layers + 3`` sites)."""
    z2: bool = True
    """Make the prediction odd, ``eps(-x) = -eps(x)`` (exactly, by antisymmetrising)."""

    @nn.compact
    def __call__(self, x, t, abar):
        """``x (n, L, L)``, ``t (n,)``, ``abar (n,)`` = :math:`\\bar\\alpha(t)` -> ``(n, L, L)``."""
        n = x.shape[0]
        freqs = jnp.asarray([1.0, 2.0, 4.0, 8.0, 16.0], jnp.float32) * math.pi
        emb = jnp.concatenate(
            [
                jnp.sin(t[:, None] * freqs[None]),
                jnp.cos(t[:, None] * freqs[None]),
                jnp.sqrt(abar)[:, None],
            ],
            axis=-1,
        )  # (n, 11)
        xs = jnp.concatenate([x, -x]) if self.z2 else x
        m = xs.shape[0]
        emb = jnp.concatenate([emb, emb]) if self.z2 else emb
        h = jnp.concatenate(
            [xs[..., None], jnp.broadcast_to(emb[:, None, None, :], (m, self.L, self.L, 11))],
            axis=-1,
        )
        for _ in range(self.layers):
            h = nn.silu(nn.Conv(self.hidden, (3, 3), padding="CIRCULAR")(h))
        out = nn.Conv(1, (3, 3), padding="CIRCULAR")(h)[..., 0]
        if self.z2:
            out = 0.5 * (out[:n] - out[n:])
        return jnp.sqrt(1.0 - abar)[:, None, None] * x + out


@dataclasses.dataclass(frozen=True)
class Phi4DiffusionConfig:
    """Network, noise schedule, training and sampling of the phi^4 diffusion model.

    Training (:func:`train_phi4_diffusion`): Adam with a cosine schedule, ``n_steps``
    steps of ``batch_size`` fields drawn with replacement from 90% of the HMC fields (the
    other 10% give the held-out loss).
    """

    hidden: int = 16
    """Channels of the noise predictor's convolutions."""
    layers: int = 3
    """Hidden 3x3 convolutions of the noise predictor (receptive field ``2 * layers + 3``
    sites: the whole 8x8 torus at the default)."""
    z2: bool = True
    """Odd noise predictor (the phi -> -phi symmetry exactly)."""
    n_steps: int = 2000
    """Training steps (about 0.1 s each at L = 6, batch 128, on 2 heavily shared CPU cores)."""
    batch_size: int = 128
    """Fields per training step."""
    learning_rate: float = 2e-3
    """Peak learning rate of the cosine schedule."""
    denoise_steps: int = 50
    """Denoising steps ``K`` of :func:`sample` (any ``K`` may be asked for there)."""
    beta_min: float = 0.1
    """Noise rate at t = 0 (Ho et al.'s 1e-4 per step, times 1000 steps)."""
    beta_max: float = 20.0
    """Noise rate at t = 1 (Ho et al.'s 0.02 per step, times 1000 steps)."""
    reverse_variance: str = "beta"
    """Variance of each denoising step: ``beta`` (:math:`1 - \\alpha`) or ``posterior``
    (:math:`\\tilde\\beta`); see the module docstring."""

    def __post_init__(self):
        for name in ("hidden", "layers", "n_steps", "denoise_steps"):
            check_positive_int(name, getattr(self, name))
        check_positive_int("batch_size", self.batch_size, minimum=2)
        if not isinstance(self.z2, bool):
            raise InvalidParameterError(f"z2: expected True or False; got {self.z2!r}")
        if self.reverse_variance not in REVERSE_VARIANCES:
            raise UnknownNameError(
                f"reverse_variance: expected one of {', '.join(REVERSE_VARIANCES)}; got "
                f"{self.reverse_variance!r}"
            )
        for name in ("learning_rate", "beta_min", "beta_max"):
            check_number(name, getattr(self, name), minimum=0, strict=True)
        if self.beta_max <= self.beta_min:
            raise InvalidParameterError(
                f"beta_max: expected a number > beta_min = {self.beta_min}; got {self.beta_max}"
            )

    @property
    def steps_per_epoch(self) -> int:
        """Training steps per epoch (one checkpoint and one held-out loss per epoch): a
        tenth of ``n_steps``, at most 100."""
        return max(1, min(100, self.n_steps // 10))

    @property
    def epochs(self) -> int:
        """Epochs of :attr:`steps_per_epoch`; training makes ``epochs * steps_per_epoch``
        steps (``n_steps`` rounded up to a multiple of :attr:`steps_per_epoch`)."""
        return -(-self.n_steps // self.steps_per_epoch)


def _check_fields(fields, L: int, name: str = "hmc_samples") -> np.ndarray:
    """Fields ``(n, L, L)`` or chains ``(c, n, L, L)`` as ``(n_total, L, L)`` float32."""
    a = np.asarray(fields)
    if a.ndim not in (3, 4) or a.shape[-2:] != (L, L):
        raise ShapeError(
            f"{name}: expected fields of shape (n, {L}, {L}) or chains (n_chains, n, {L}, {L}) "
            f"of the theory's lattice; got shape {a.shape}"
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise ShapeError(f"{name}: expected a floating-point field; got dtype {a.dtype}")
    a = a.reshape(-1, L, L).astype(np.float32)
    if a.shape[0] < 20:
        raise InvalidParameterError(f"{name}: expected at least 20 fields; got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise InvalidParameterError(f"{name}: expected finite fields; got NaN or inf")
    return a


def noise_prediction_loss(module: NoisePredictor, train_x: jax.Array, config: Phi4DiffusionConfig):
    """:func:`qml_phys.train.fit` loss: :math:`E\\|\\varepsilon - \\varepsilon_\\theta\\|^2`
    per site, ``t ~ U(0, 1)``. Training batches (``batch=None``) are ``batch_size`` draws
    from ``train_x`` ``(n, L, L)`` under random lattice symmetries
    (:func:`~qml_phys.generative.base.symmetry_augment`: phi -> -phi, D4, translations);
    evaluation batches (``{"x": fields}``) are taken as they are."""
    B = config.batch_size

    def loss_fn(params, batch, *, key, model_state, train):
        k_i, k_a, k_t, k_e = jax.random.split(key, 4)
        if batch is None:
            idx = jax.random.randint(k_i, (B,), 0, train_x.shape[0])
            x0 = symmetry_augment(k_a, train_x[idx], translations=True)
        else:
            x0 = batch["x"]
        t = jax.random.uniform(k_t, (x0.shape[0],), jnp.float32)
        abar = alpha_bar(t, config.beta_min, config.beta_max)
        eps = jax.random.normal(k_e, x0.shape, jnp.float32)
        xt = jnp.sqrt(abar)[:, None, None] * x0 + jnp.sqrt(1.0 - abar)[:, None, None] * eps
        pred = module.apply({"params": params}, xt, t, abar)
        mse = jnp.mean((pred - eps) ** 2)
        return mse, ({"mse_per_site": mse}, model_state)

    return loss_fn


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainedPhi4Diffusion(TrainResult):
    """What :func:`train_phi4_diffusion` returns: the training run (``config`` the
    :class:`Phi4DiffusionConfig`; ``history`` per epoch: ``train_loss``, ``val_loss``), the
    network and what sampling needs."""

    module: NoisePredictor
    """The noise predictor (configuration only)."""
    theory: Phi4
    """The theory of the training fields."""
    scale: float
    """:math:`\\sigma`: fields are modelled as ``phi / scale``."""
    n_train: int
    """Training fields (the held-out tenth excluded)."""

    reported = ("scale", "n_train")

    def summary(self) -> dict:
        """The training summary with ``scale``, ``n_train`` and the steps made."""
        return super().summary() | {
            "training_steps": self.config.epochs * self.config.steps_per_epoch,
        }


def train_phi4_diffusion(
    theory: Phi4,
    hmc_samples,
    config: Phi4DiffusionConfig = Phi4DiffusionConfig(),
    *,
    key: jax.Array,
    checkpoint=None,
) -> TrainedPhi4Diffusion:
    """Train the noise predictor on HMC fields of ``theory`` with :func:`qml_phys.train.fit`.

    Args:
        theory: the :class:`~qml_phys.physics.phi4.Phi4` theory the fields sample.
        hmc_samples: ``(n, L, L)`` fields or ``(n_chains, n, L, L)`` chains, ``n_total >= 20``.
        config: network, schedule and training.
        key: PRNG key of the split, the initial parameters and training.
        checkpoint: a :class:`~qml_phys.runtime.checkpoint.Checkpoint` to save to and resume
            from (its fingerprint also holds the theory, the architecture and the data's
            SHA-256).
    """
    from qml_phys.train import TrainConfig, fit

    if not isinstance(theory, Phi4):
        raise InvalidParameterError(f"theory: expected a Phi4; got {type(theory).__name__}")
    if not isinstance(config, Phi4DiffusionConfig):
        raise InvalidParameterError(
            f"config: expected a Phi4DiffusionConfig; got {type(config).__name__}"
        )
    x = _check_fields(hmc_samples, theory.L)
    scale = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
    if not scale > 0:
        raise InvalidParameterError("hmc_samples: expected fields not all zero; got all zero")
    k_split, k_init, k_fit = jax.random.split(key, 3)
    perm = np.asarray(jax.random.permutation(k_split, x.shape[0]))
    n_val = max(x.shape[0] // 10, 1)
    val, train_x = x[perm[:n_val]] / scale, x[perm[n_val:]] / scale
    module = NoisePredictor(theory.L, config.hidden, config.layers, config.z2)
    zeros = jnp.zeros((1,), jnp.float32)
    params = module.init(k_init, jnp.asarray(train_x[:1]), zeros, zeros + 1.0)["params"]
    tc = TrainConfig(
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        schedule="cosine",
        restore_best=False,  # the held-out loss is a noisy estimate; keep the last epoch
        label="phi^4 diffusion",
    )
    arch = {k: getattr(config, k) for k in ("hidden", "layers", "z2", "batch_size")}
    arch |= {"beta_min": config.beta_min, "beta_max": config.beta_max}
    checkpoint = fingerprinted(
        checkpoint,
        theory={"L": theory.L, "m2": theory.m2, "lam": theory.lam},
        diffusion=arch,
        data_sha256=hashlib.sha256(x.tobytes()).hexdigest(),
    )
    res = fit(
        noise_prediction_loss(module, jnp.asarray(train_x), config),
        params,
        None,
        config=tc,
        key=k_fit,
        validation={"x": val},
        callbacks=() if checkpoint is None else (checkpoint,),
    )
    return promote_result(
        TrainedPhi4Diffusion,
        res,
        config=config,
        module=module,
        theory=theory,
        scale=scale,
        n_train=int(train_x.shape[0]),
    )


#: Bytes per denoising step of :func:`sample`'s schedule: the float64 time grid, three
#: float32 schedule arrays and a PRNG key per step, with room for the copies jit makes.
_BYTES_PER_STEP = 64


def check_sampling_memory(denoise_steps: int, n: int, L: int) -> None:
    """Refuse a sampling run whose schedule (``denoise_steps`` steps) and fields (batches of
    at most 4096 ``L x L``, with the denoiser's activations) cannot fit in memory, before
    anything is trained or allocated."""
    chunk = min(int(n), 4096)
    needed = _BYTES_PER_STEP * int(denoise_steps) + 64 * chunk * L * L * 4
    check_memory(f"sampling {n} fields with {denoise_steps} denoising steps", needed)


def sample(
    model: TrainedPhi4Diffusion, *, key: jax.Array, n: int, denoise_steps: int | None = None
) -> np.ndarray:
    """``n`` independent fields ``(n, L, L)`` float32 by ``denoise_steps`` ancestral DDPM
    steps (default ``model.config.denoise_steps``), in batches of at most 4096."""
    n = check_positive_int("n", n)
    K = check_positive_int("denoise_steps", denoise_steps or model.config.denoise_steps)
    cfg, L = model.config, model.theory.L
    check_sampling_memory(K, n, L)
    ts = np.linspace(1.0, 0.0, K + 1).astype(np.float32)
    abar = np.array(alpha_bar(jnp.asarray(ts), cfg.beta_min, cfg.beta_max), np.float32)
    abar[-1] = 1.0
    apply = lambda x, t, a: model.module.apply({"params": model.params}, x, t, a)
    posterior = cfg.reverse_variance == "posterior"

    @jax.jit
    def run(key, m_zeros):
        m = m_zeros.shape[0]
        k0, kr = jax.random.split(key)
        x = jax.random.normal(k0, (m, L, L), jnp.float32)

        def step(x, inp):
            t, a_t, a_s, k = inp
            alpha = a_t / a_s
            eps = apply(x, jnp.full((m,), t, jnp.float32), jnp.full((m,), a_t, jnp.float32))
            mean = (x - (1.0 - alpha) / jnp.sqrt(1.0 - a_t) * eps) / jnp.sqrt(alpha)
            var = 1.0 - alpha
            if posterior:
                var = var * (1.0 - a_s) / (1.0 - a_t)
            return mean + jnp.sqrt(var) * jax.random.normal(k, x.shape, jnp.float32), None

        inputs = (ts[:-1], abar[:-1], abar[1:], jax.random.split(kr, K))
        x, _ = jax.lax.scan(step, x, inputs)
        return x

    chunk = min(n, 4096)
    parts = [
        np.asarray(run(jax.random.fold_in(key, i), jnp.zeros((chunk,), jnp.float32)))
        for i in range(-(-n // chunk))
    ]
    return (np.concatenate(parts)[:n] * model.scale).astype(np.float32)


def compare_with_hmc(samples, hmc_chains) -> dict:
    """Observables of independent ``samples`` ``(n, L, L)`` against HMC ``hmc_chains``
    ``(n_chains, m, L, L)`` (or one chain ``(m, L, L)``).

    Returns per observable of :data:`OBSERVABLES` ``{"diffusion", "diffusion_error", "hmc",
    "hmc_error", "hmc_tau_int", "z"}``: the diffusion error is ``std / sqrt(n)`` (the samples
    are independent), HMC's is autocorrelation-aware (:func:`qml_phys.stats.estimate`);
    ``z`` is the difference in combined errors (None when both errors are 0).
    """
    from qml_phys.physics.phi4 import observables
    from qml_phys.stats import estimate

    s = np.asarray(samples)
    if s.ndim != 3:
        raise ShapeError(f"samples: expected fields of shape (n, L, L); got shape {s.shape}")
    L = s.shape[-1]
    h = np.asarray(hmc_chains)
    h = h[None] if h.ndim == 3 else h
    if h.ndim != 4 or h.shape[-2:] != s.shape[-2:]:
        raise ShapeError(
            f"hmc_chains: expected chains of shape (n_chains, m, {L}, {L}) like the samples; "
            f"got shape {h.shape}"
        )
    obs_d, obs_h = observables(s), observables(h)
    out = {}
    for name in OBSERVABLES:
        d = obs_d[name]
        mean_d, err_d = float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))
        e = estimate(obs_h[name], warn=False)
        err = math.hypot(err_d, e.error)
        out[name] = {
            "diffusion": mean_d,
            "diffusion_error": err_d,
            "hmc": e.mean,
            "hmc_error": e.error,
            "hmc_tau_int": e.tau_int,
            "z": (mean_d - e.mean) / err if err > 0 else None,
        }
    return out


def hmc_fields(theory: Phi4, n_samples: int, *, key: jax.Array, config: Any = None):
    """``n_samples`` HMC fields of ``theory`` in ``config.hmc_chains`` chains (a
    :class:`DiffusionVsHMCConfig`, default one): the
    :class:`~qml_phys.classical.hmc.HMCResult`, ``samples`` ``(chains, n / chains, L, L)``,
    after a tenth of the chain length (at least 10) of thermalisation trajectories."""
    from qml_phys.classical.hmc import HMCConfig, run_hmc

    config = DiffusionVsHMCConfig() if config is None else config
    chains = config.hmc_chains
    per = check_positive_int("n_samples", n_samples, minimum=20 * chains) // chains
    k0, kh = jax.random.split(key)
    x0 = 0.1 * jax.random.normal(k0, (chains, theory.L, theory.L), jnp.float32)
    hmc = HMCConfig(
        n_samples=per,
        step_size=config.hmc_step_size,
        n_leapfrog=config.hmc_leapfrog,
        n_therm=max(per // 10, 10),
    )
    return run_hmc(theory.action, x0, hmc, key=kh, grad=theory.grad)


@dataclasses.dataclass(frozen=True)
class DiffusionVsHMCConfig:
    """Settings of :func:`diffusion_vs_hmc`: the model, and how many fields each side has."""

    diffusion: Phi4DiffusionConfig = Phi4DiffusionConfig()
    """The diffusion model and its training."""
    n_train: int = 4000
    """HMC fields the model is trained on (one HMC run)."""
    n_samples: int = 4000
    """Diffusion samples, and HMC fields of a second, independent run they are compared with."""
    hmc_chains: int = 16
    """Parallel HMC chains of each run."""
    hmc_step_size: float = 0.08
    """HMC leapfrog step (trajectory length 0.08 x 25 = 2, as :mod:`~qml_phys.generative.flows`)."""
    hmc_leapfrog: int = 25
    """Leapfrog steps per HMC trajectory."""

    def __post_init__(self):
        if not isinstance(self.diffusion, Phi4DiffusionConfig):
            raise InvalidParameterError(
                f"diffusion: expected a Phi4DiffusionConfig; got {type(self.diffusion).__name__}"
            )
        check_positive_int("hmc_chains", self.hmc_chains)
        check_positive_int("hmc_leapfrog", self.hmc_leapfrog)
        for name in ("n_train", "n_samples"):
            check_positive_int(name, getattr(self, name), minimum=20 * self.hmc_chains)
        v = self.hmc_step_size
        check_number("hmc_step_size", v, minimum=0, strict=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DiffusionVsHMCResult(Result):
    """What :func:`diffusion_vs_hmc` returns; ``history`` and ``status`` are training's."""

    trained: TrainedPhi4Diffusion
    """The trained model."""
    samples: np.ndarray
    """``(n_samples, L, L)`` diffusion samples."""
    hmc: Any
    """The reference :class:`~qml_phys.classical.hmc.HMCResult` (not the training run)."""
    observables: dict
    """:func:`compare_with_hmc` of the samples against the reference run."""
    sampling_seconds: float
    """Wall time of drawing the samples (compilation included)."""

    reported = ("sampling_seconds", "observables")

    def summary(self) -> dict:
        """``L, m2, lam``, ``training`` (:meth:`TrainedPhi4Diffusion.summary`),
        ``denoise_steps``, ``n_samples``, ``sampling_seconds``, ``hmc`` (acceptance,
        chains, samples), ``observables`` and ``max_abs_z``."""
        th, t = self.trained.theory, self.trained
        zs = [abs(v["z"]) for v in self.observables.values() if v["z"] is not None]
        return super().summary() | {
            "L": th.L,
            "m2": th.m2,
            "lam": th.lam,
            "training": t.summary(),
            "denoise_steps": t.config.denoise_steps,
            "n_samples": int(self.samples.shape[0]),
            "hmc": {
                "acceptance": self.hmc.acceptance,
                "n_chains": int(self.hmc.samples.shape[0]),
                "n_samples": int(self.hmc.samples.shape[0] * self.hmc.samples.shape[1]),
            },
            "max_abs_z": max(zs) if zs else None,
        }


def diffusion_vs_hmc(
    theory: Phi4,
    config: DiffusionVsHMCConfig = DiffusionVsHMCConfig(),
    *,
    key: jax.Array,
    checkpoint=None,
) -> DiffusionVsHMCResult:
    """One HMC run to train on, a second independent one to compare with; train, sample
    ``config.diffusion.denoise_steps`` steps, compare (:func:`compare_with_hmc`).

    The run behind ``qml-phys generative diffusion-phi4``. ``key``: PRNG key of both HMC
    runs, training and sampling. ``checkpoint``: passed to :func:`train_phi4_diffusion`.
    """
    t0 = time.perf_counter()
    check_sampling_memory(config.diffusion.denoise_steps, config.n_samples, theory.L)
    k_data, k_ref, k_train, k_sample = jax.random.split(key, 4)
    data = hmc_fields(theory, config.n_train, key=k_data, config=config)
    trained = train_phi4_diffusion(
        theory, data.samples, config.diffusion, key=k_train, checkpoint=checkpoint
    )
    ref = hmc_fields(theory, config.n_samples, key=k_ref, config=config)
    t1 = time.perf_counter()
    samples = sample(trained, key=k_sample, n=config.n_samples)
    t_sample = time.perf_counter() - t1
    return DiffusionVsHMCResult(
        **ran(config, trained, since=t0),
        trained=trained,
        samples=samples,
        hmc=ref,
        observables=compare_with_hmc(samples, ref.samples),
        sampling_seconds=t_sample,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class BiasScan(Result):
    """What :func:`bias_scan` returns: ``config`` the :class:`DiffusionVsHMCConfig` whose
    ``diffusion.n_steps`` and ``denoise_steps`` the scan replaces; ``history`` per training
    run, its final ``train_loss`` and ``val_loss``."""

    theory: Phi4
    rows: list
    """One per (training steps, K): ``{"training_steps", "denoise_steps",
    "sampling_seconds", "observables": compare_with_hmc(...)}``."""
    hmc: dict
    """The reference HMC run: ``acceptance``, ``n_chains``, ``n_samples``."""

    reported = ("hmc",)

    def summary(self) -> dict:
        """``L, m2, lam``, ``hmc`` and ``rows`` with, per row, ``max_abs_z``."""
        rows = [
            r | {"max_abs_z": max(abs(v["z"]) for v in r["observables"].values())}
            for r in self.rows
        ]
        th = self.theory
        return super().summary() | {
            "L": th.L,
            "m2": th.m2,
            "lam": th.lam,
            "rows": rows,
        }


def bias_scan(
    theory: Phi4,
    config: DiffusionVsHMCConfig,
    n_steps: tuple[int, ...],
    denoise_steps: tuple[int, ...],
    *,
    key: jax.Array,
) -> BiasScan:
    """The bias of the diffusion samples against HMC for each number of training steps
    (a fresh model per entry of ``n_steps``, the same HMC training fields and key) and
    each number of denoising steps ``K`` of ``denoise_steps`` (the same sampling key).

    One HMC run is the training set, a second, independent one the reference (both of
    ``config``'s sizes); each cell compares ``config.n_samples`` samples with the
    reference (:func:`compare_with_hmc`).
    """
    t0 = time.perf_counter()
    denoise_steps = tuple(check_positive_int("denoise_steps", K) for K in denoise_steps)
    for K in denoise_steps:
        check_sampling_memory(K, config.n_samples, theory.L)
    k_data, k_ref, k_train, k_sample = jax.random.split(key, 4)
    data = hmc_fields(theory, config.n_train, key=k_data, config=config)
    ref = hmc_fields(theory, config.n_samples, key=k_ref, config=config)
    rows, losses = [], {"train_loss": [], "val_loss": []}
    status = "completed"
    for steps in n_steps:
        cfg = dataclasses.replace(config.diffusion, n_steps=check_positive_int("n_steps", steps))
        trained = train_phi4_diffusion(theory, data.samples, cfg, key=k_train)
        status = trained.status if trained.status != "completed" else status
        losses["train_loss"].append(trained.final("train_loss"))
        losses["val_loss"].append(trained.final("val_loss"))
        for K in denoise_steps:
            t1 = time.perf_counter()
            s = sample(trained, key=k_sample, n=config.n_samples, denoise_steps=K)
            rows.append(
                {
                    "training_steps": cfg.epochs * cfg.steps_per_epoch,
                    "denoise_steps": int(K),
                    "sampling_seconds": time.perf_counter() - t1,
                    "observables": compare_with_hmc(s, ref.samples),
                }
            )
    return BiasScan(
        config=config,
        history={k: np.asarray(v, np.float64) for k, v in losses.items()},
        wall_time_s=time.perf_counter() - t0,
        status=status,
        theory=theory,
        rows=rows,
        hmc={
            "acceptance": ref.acceptance,
            "n_chains": int(ref.samples.shape[0]),
            "n_samples": int(ref.samples.shape[0] * ref.samples.shape[1]),
        },
    )
