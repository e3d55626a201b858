"""The generative models over spins, by name, and what works for every one of them.

:func:`make_spin_model` is the one place that turns a model name (as the command line,
the tour and the studies use it) into a Flax module of this package. Training, sampling
and the normalised ``log p`` dispatch here between the normalised (autoregressive) models
and the energy-based RBM, so that :mod:`~qml_phys.generative.base` knows no model.

Two whole runs, each one function that returns a
:class:`~qml_phys.runtime.results.Result` (what ``qml-phys generative train`` prints):

* :func:`train_and_compare` - fit a spin model (RBM or autoregressive) to Monte Carlo
  configurations at one temperature, draw samples, compare them with the data, optionally
  correct them by independence Metropolis, and give the exact KL on small lattices;
* :func:`fit_and_compare` - the same for the models that train by their own function
  (VAE, GAN, diffusion; chosen by the type of their config), or, for a VAE over a whole
  temperature grid, its latent analysis.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from typing import Any

import jax
import numpy as np

from qml_phys.errors import InvalidParameterError, UnknownNameError, check_positive_int
from qml_phys.generative import rbm
from qml_phys.generative.base import (
    check_sample_memory,
    fingerprinted,
    init_params,
    nll_loss,
    promote_result,
    sample,
    spins_from_data,
)
from qml_phys.runtime.results import Result, ran
from qml_phys.train import TrainConfig, TrainResult, check_train_config

__all__ = [
    "AUTOREGRESSIVE",
    "LEARNING_RATE",
    "SPIN_MODELS",
    "CompareConfig",
    "FitComparison",
    "SpinModelResult",
    "SpinTrainConfig",
    "draw_samples",
    "fit_and_compare",
    "make_spin_model",
    "normalised_log_prob_fn",
    "train_and_compare",
    "train_config",
    "train_spin_model",
]

#: Autoregressive models (exact sampling, normalised ``log p``).
AUTOREGRESSIVE = ("made", "pixelcnn", "rnn", "lstm", "transformer", "local")
#: Every name :func:`make_spin_model` accepts.
SPIN_MODELS = ("rbm", *AUTOREGRESSIVE)

_WIDTH = {
    "made": lambda h: {"hidden": (h,)},
    "pixelcnn": lambda h: {"features": h},
    "rnn": lambda h: {"hidden": h},
    "lstm": lambda h: {"hidden": h},
    "transformer": lambda h: {"d_model": h},
    "local": lambda h: {"hidden": (h, h)},
}

#: Adam's learning rate for spin models when none is given (RBM and autoregressive).
LEARNING_RATE = 3e-3


def make_spin_model(name: str, L: int, *, hidden: int | None = None, z2: bool = False):
    """The module called ``name`` for an ``L x L`` lattice.

    Args:
        name: one of :data:`SPIN_MODELS`.
        L: linear lattice size.
        hidden: width (hidden units of the RBM, default ``L * L``; the autoregressive
            model's own default when None).
        z2: symmetrise an autoregressive model under a global spin flip,
            ``p(s) = (q(s) + q(-s)) / 2``.
    """
    from qml_phys.generative import autoregressive

    if name == "rbm":
        return rbm.RBM(shape=(L, L), n_hidden=hidden or L * L)
    if name not in _WIDTH:
        raise UnknownNameError(f"model: expected one of {list(SPIN_MODELS)}; got {name!r}")
    kwargs = _WIDTH[name](hidden) if hidden else {}
    return autoregressive.make_model(name, L, z2=z2, **kwargs)


def train_config(module, **overrides) -> TrainConfig:
    """The :class:`~qml_phys.train.TrainConfig` this package trains ``module`` with, with
    ``overrides`` (any ``TrainConfig`` field).

    Adam at :data:`LEARNING_RATE`; 10% of the data held out for a normalised model (its
    validation loss is the held-out negative log-likelihood), none for an RBM (the CD loss
    is no likelihood, so a "best" validation epoch would mean nothing).
    """
    normalised = getattr(module, "normalised", False)
    defaults = {"learning_rate": LEARNING_RATE, "validation_fraction": 0.1 if normalised else 0.0}
    return TrainConfig(**(defaults | overrides))


@dataclasses.dataclass(frozen=True)
class SpinTrainConfig:
    """How :func:`train_spin_model` fits a spin model to data."""

    train: TrainConfig = TrainConfig()
    """Optimiser, epochs, batches and validation split (:func:`qml_phys.train.fit`);
    :func:`train_config` gives the package's choice for a model."""
    cd_k: int = 10
    """RBM: Gibbs steps per gradient estimate (CD-k, or PCD-k with ``persistent``)."""
    persistent: bool = False
    """RBM: persistent contrastive divergence with ``train.batch_size`` fantasy chains (it
    needs small learning rates: with Adam at 1e-3 it oscillates on the 3x3 torus at T_c)."""
    augment: bool = False
    """Normalised models: train on random symmetry images (translations, D4, spin flip)
    of each batch (:func:`~qml_phys.generative.base.nll_loss`)."""

    def __post_init__(self):
        check_train_config(self.train)
        check_positive_int("cd_k", self.cd_k)
        for name in ("persistent", "augment"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidParameterError(
                    f"{name}: expected True or False; got {getattr(self, name)!r}"
                )


def _spin_train_config(config) -> SpinTrainConfig:
    if config is None:
        return SpinTrainConfig()
    if isinstance(config, TrainConfig):
        return SpinTrainConfig(train=config)
    if not isinstance(config, SpinTrainConfig):
        raise InvalidParameterError(
            f"config: expected a SpinTrainConfig or a TrainConfig; got {type(config).__name__}"
        )
    return config


def train_spin_model(
    module,
    spins,
    config: SpinTrainConfig | TrainConfig | None = None,
    *,
    key: jax.Array,
    params=None,
    checkpoint=None,
) -> TrainResult:
    """Fit a spin model to data with :func:`qml_phys.train.fit`; returns its ``TrainResult``.

    Normalised models are trained by maximum likelihood (:func:`nll_loss`), an RBM by
    CD-``cd_k`` or PCD-``cd_k`` (:func:`qml_phys.generative.rbm.cd_loss`).

    Args:
        module: a model of :mod:`qml_phys.generative` (e.g. :func:`make_spin_model`).
        spins: ``(n, *module.shape)`` training configurations in {-1,+1} (validated).
        config: a :class:`SpinTrainConfig`, or a bare ``TrainConfig`` for the default
            loss settings (``SpinTrainConfig(train=config)``); default ``SpinTrainConfig()``.
        key: PRNG key of the initial parameters, the PCD chains and training.
        params: start from these instead of a fresh initialisation.
        checkpoint: a :class:`~qml_phys.runtime.checkpoint.Checkpoint` to save to and
            resume from (its fingerprint also holds the model class and the loss settings).

    A non-finite loss stops training with ``status="diverged"``, a ``RuntimeWarning``, and
    the parameters of the last good epoch (see :func:`qml_phys.train.fit`).
    """
    from qml_phys.train import fit

    config = _spin_train_config(config)
    x = spins_from_data(spins, tuple(module.shape))
    k_init, k_chains, k_fit = jax.random.split(key, 3)
    if params is None:
        params = init_params(module, key=k_init)
    model_state = None
    if getattr(module, "normalised", False):
        loss_fn = nll_loss(module, augment=config.augment)
    else:
        loss_fn = rbm.cd_loss(module, k=config.cd_k, persistent=config.persistent)
        if config.persistent:
            model_state = rbm.init_chains(module, key=k_chains, n_chains=config.train.batch_size)
    checkpoint = fingerprinted(
        checkpoint,
        spin_model={
            "module": type(module).__name__,
            "cd_k": config.cd_k,
            "persistent": config.persistent,
            "augment": config.augment,
        },
    )
    train = config.train
    if train.label == TrainConfig.label:
        train = dataclasses.replace(train, label=f"training {type(module).__name__}")
    return fit(
        loss_fn,
        params,
        {"x": x},
        config=train,
        key=k_fit,
        model_state=model_state,
        callbacks=() if checkpoint is None else (checkpoint,),
    )


def draw_samples(module, params, key: jax.Array, n: int, *, gibbs_steps: int = 1000) -> jax.Array:
    """``n`` independent samples ``(n, *shape)``: exact for autoregressive models; for an
    RBM one per independent Gibbs chain after ``gibbs_steps`` steps
    (:func:`qml_phys.generative.rbm.sample_gibbs`)."""
    if getattr(module, "exact_sampling", False):
        return jax.jit(lambda k: sample(module, params, k, n))(key)
    return jax.jit(lambda k: rbm.sample_gibbs(module, params, k, n, n_steps=gibbs_steps))(key)


def normalised_log_prob_fn(module, params):
    """``s -> ln p(s)`` normalised: as is for autoregressive models, with the exact
    ``ln Z`` (:func:`qml_phys.generative.rbm.log_partition`) for an RBM."""
    f = jax.jit(lambda s: module.apply({"params": params}, s))
    if getattr(module, "normalised", False):
        return f
    log_z = rbm.log_partition(module, params)
    return lambda s: np.asarray(f(s), np.float64) - log_z


# --------------------------------------------------------------------------- whole runs
@dataclasses.dataclass(frozen=True)
class CompareConfig:
    """How :func:`train_and_compare` judges a trained spin model against the data."""

    n_samples: int = 2000
    """Model samples compared with the data (exact draws, or one per Gibbs chain)."""
    gibbs_steps: int = 1000
    """RBM: Gibbs steps of each independent sampling chain (its burn-in)."""
    n_proposals: int | None = None
    """Length of the independence-Metropolis chain that corrects the model's draws to the
    Boltzmann distribution at ``T`` (models with exact sampling only), or None for none.
    A short chain under-estimates its error when the model misses rare configurations
    (10^5: about 20 s for the local model at L = 16 on 2 CPU cores)."""

    def __post_init__(self):
        check_positive_int("n_samples", self.n_samples, minimum=2)
        check_positive_int("gibbs_steps", self.gibbs_steps)
        if self.n_proposals is not None:
            check_positive_int("n_proposals", self.n_proposals, minimum=2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SpinModelResult(TrainResult):
    """What :func:`train_and_compare` returns: the training run (a
    :class:`~qml_phys.train.TrainResult`, per-epoch ``history``) and the comparison."""

    module: Any
    """The trained Flax module (``params`` are its trained parameters)."""
    T: float
    """Temperature of the data (units of J)."""
    n_train: int
    """Training configurations."""
    samples: np.ndarray
    """``(n_samples, L, L)`` model samples that :attr:`comparison` judges."""
    comparison: dict
    """:func:`~qml_phys.generative.evaluate.compare_with_reference` of the samples."""
    comparison_mh: dict | None = None
    """The same for the independence-Metropolis chain (with its ``acceptance`` and
    ``ess_fraction``), autocorrelation-aware errors; None when not asked for."""
    exact_kl: float | None = None
    """Exact KL(Boltzmann || model) in nats for ``L * L <= 20``; None otherwise."""
    warnings: tuple[str, ...] = ()
    """``RuntimeWarning`` messages of training (e.g. a non-finite loss)."""

    @property
    def L(self) -> int:
        return int(self.module.shape[0])

    def summary(self) -> dict:
        """``L``, ``T``, ``n_train``, the training summary (:meth:`TrainResult.summary`),
        ``comparison``, ``exact_kl``, and ``comparison_mh`` and ``warnings`` if any."""
        out = {"L": self.L, "T": self.T, "n_train": self.n_train}
        out |= super().summary() | {"comparison": self.comparison, "exact_kl": self.exact_kl}
        if self.comparison_mh is not None:
            out["comparison_mh"] = self.comparison_mh
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out


def train_and_compare(
    module,
    spins,
    T: float,
    config: SpinTrainConfig | TrainConfig | None = None,
    *,
    key: jax.Array,
    compare: CompareConfig = CompareConfig(),
    checkpoint=None,
) -> SpinModelResult:
    """Train ``module`` on ``spins`` at ``T``, draw samples and compare them with the data.

    The run behind ``qml-phys generative train --model rbm|made|...``:
    :func:`train_spin_model`, then ``compare.n_samples`` samples (:func:`draw_samples`)
    against the data (:func:`~qml_phys.generative.evaluate.compare_with_reference`), with
    ``compare.n_proposals`` the independence-Metropolis chain that corrects the model to
    the Boltzmann weight at ``T``, and for ``L * L <= 20`` the exact KL divergence.

    Args:
        module: an ``L x L`` spin model (:func:`make_spin_model`).
        spins: ``(n, L, L)`` Monte Carlo configurations at ``T`` in {-1,+1}.
        T: their temperature (units of J).
        config: training settings (see :func:`train_spin_model`).
        key: PRNG key of training, sampling and the correcting chain.
        compare: samples and the correcting chain.
        checkpoint: passed on to :func:`train_spin_model`.

    ``RuntimeWarning``s of training are kept in ``result.warnings`` and issued again.
    """
    from qml_phys.generative import base, evaluate

    if compare.n_proposals is not None and not getattr(module, "exact_sampling", False):
        raise InvalidParameterError(
            "n_proposals: expected a model with exact sampling and a normalised log p "
            f"(autoregressive) for the Metropolis correction; got {type(module).__name__}"
        )
    n_spins = int(np.prod(np.shape(spins)[1:]))
    check_sample_memory(max(compare.n_samples, compare.n_proposals or 0), n_spins)
    config = _spin_train_config(config)  # memory checked before training, not after it
    k_train, k_sample, k_mh = jax.random.split(key, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        res = train_spin_model(module, spins, config, key=k_train, checkpoint=checkpoint)
    for w in caught:  # shown to the caller as well as recorded
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    samples = np.asarray(
        draw_samples(
            module, res.params, k_sample, compare.n_samples, gibbs_steps=compare.gibbs_steps
        )
    )
    comparison_mh = None
    if compare.n_proposals is not None:
        chain = base.independence_metropolis(
            module, res.params, k_mh, compare.n_proposals, evaluate.boltzmann_log_weight(T)
        )
        comparison_mh = {
            "acceptance": chain["acceptance"],
            "ess_fraction": chain["ess_fraction"],
            **evaluate.compare_with_reference(
                np.asarray(chain["samples"]), spins, T=T, independent=False
            ),
        }
    L = int(module.shape[0])
    exact_kl = None
    if L * L <= evaluate.MAX_KL_SITES:
        exact_kl = evaluate.exact_kl(normalised_log_prob_fn(module, res.params), L, T)
    return promote_result(
        SpinModelResult,
        res,
        config=config,
        module=module,
        T=float(T),
        n_train=int(np.shape(spins)[0]),
        samples=samples,
        comparison=evaluate.compare_with_reference(samples, spins, T=T),
        comparison_mh=comparison_mh,
        exact_kl=exact_kl,
        warnings=tuple(str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class FitComparison(Result):
    """What :func:`fit_and_compare` returns. ``history``, ``status`` and ``config`` are the
    trained model's."""

    name: str
    """``vae``, ``gan`` or ``diffusion``."""
    trained: Result
    """The trained model (``TrainedVAE``, ``TrainedGAN`` or ``TrainedDiffusion``)."""
    L: int
    T: float | None
    """Temperature of the training data; None: a VAE over the whole grid."""
    comparison: dict | None = None
    """:func:`~qml_phys.generative.evaluate.compare_at` of model samples against the
    training data (at one ``T``)."""
    analysis: dict | None = None
    """VAE over the grid: :func:`~qml_phys.generative.vae.analyse` (arrays included)."""

    def summary(self) -> dict:
        """``model``, ``L``, ``T``, ``training`` (the trained model's summary) and either
        ``comparison`` or, for the VAE over the grid, ``latent_correlation``,
        ``recon_steepest_rise_T`` and ``recon_fluctuation_peak_T``; ``decoder`` for the VAE."""
        out: dict = {"model": self.name}
        if self.name == "vae":
            out["decoder"] = self.config.decoder
        out |= {"L": self.L, "T": self.T, "training": self.trained.summary()}
        if self.comparison is not None:
            out["comparison"] = self.comparison
        if self.analysis is not None:
            out["latent_correlation"] = self.analysis["correlation"]
            for k in ("recon_steepest_rise_T", "recon_fluctuation_peak_T"):
                out[k] = self.analysis[k]
        return out


def fit_and_compare(
    data, T: float | None, config, *, key: jax.Array, n_samples: int = 2000, checkpoint=None
) -> FitComparison:
    """Train a VAE, GAN or diffusion model (the type of ``config`` chooses) on ``data`` at
    ``T`` and compare ``n_samples`` of its samples with the data
    (:func:`~qml_phys.generative.evaluate.compare_at`).

    Args:
        data: an :class:`~qml_phys.classical.datasets.IsingData` (one lattice size).
        T: one of its temperatures; ``None`` (VAE only): train on every temperature and
            analyse the latent space (:func:`~qml_phys.generative.vae.analyse`) instead.
        config: :class:`~qml_phys.generative.vae.VAEConfig`,
            :class:`~qml_phys.generative.gan.GANConfig` or
            :class:`~qml_phys.generative.diffusion.DiffusionConfig`.
        key: PRNG key of training and sampling.
        n_samples: model samples to compare.
        checkpoint: passed on to the training function.
    """
    from qml_phys.classical.datasets import spins_at
    from qml_phys.generative import diffusion, gan, vae
    from qml_phys.generative.evaluate import compare_at

    kinds = {
        vae.VAEConfig: ("vae", vae.train_vae, vae.sample_vae),
        gan.GANConfig: ("gan", gan.train_gan, gan.sample_gan),
        diffusion.DiffusionConfig: (
            "diffusion",
            diffusion.train_diffusion,
            diffusion.sample_diffusion,
        ),
    }
    if type(config) not in kinds:
        names = ", ".join(c.__name__ for c in kinds)
        raise InvalidParameterError(f"config: expected one of {names}; got {type(config).__name__}")
    name, train, draw = kinds[type(config)]
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    spins, T = spins_at(data, T)
    check_sample_memory(n_samples, int(np.prod(np.shape(spins)[1:])))  # before training
    if T is None and name != "vae":
        raise InvalidParameterError(
            f"T: the {name} model is trained at one temperature; expected one of the "
            "dataset's temperatures, got None"
        )
    t0 = time.perf_counter()
    k_train, k_sample = jax.random.split(key)
    trained = train(spins, config, key=k_train, checkpoint=checkpoint)
    comparison = analysis = None
    if T is None:
        analysis = vae.analyse(trained, data)
    else:
        comparison = compare_at(draw(trained, key=k_sample, n=n_samples), spins, T)
    return FitComparison(
        **ran(config, trained, since=t0),
        name=name,
        trained=trained,
        L=int(spins.shape[1]),
        T=T,
        comparison=comparison,
        analysis=analysis,
    )
