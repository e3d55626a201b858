"""The generative models over spins, by name, and what works for every one of them.

:func:`make_spin_model` is the one place that turns a model name (as the command line,
the tour and the studies use it) into a Flax module of this package. Training, sampling
and the normalised ``log p`` dispatch here between the normalised (autoregressive) models
and the energy-based RBM, so that :mod:`~qml_phys.generative.base` knows no model.
"""

from __future__ import annotations

import jax
import numpy as np

from qml_phys.errors import UnknownNameError
from qml_phys.generative import rbm
from qml_phys.generative.base import init_params, nll_loss, sample, spins_from_data

__all__ = [
    "AUTOREGRESSIVE",
    "SPIN_MODELS",
    "draw_samples",
    "make_spin_model",
    "normalised_log_prob_fn",
    "train_spin_model",
]

#: Autoregressive models (exact sampling, normalised ``log p``).
AUTOREGRESSIVE = ("made", "pixelcnn", "rnn", "transformer", "local")
#: Every name :func:`make_spin_model` accepts.
SPIN_MODELS = ("rbm", *AUTOREGRESSIVE)

_WIDTH = {
    "made": lambda h: {"hidden": (h,)},
    "pixelcnn": lambda h: {"features": h},
    "rnn": lambda h: {"hidden": h},
    "transformer": lambda h: {"d_model": h},
    "local": lambda h: {"hidden": (h, h)},
}


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


def train_spin_model(
    module,
    spins,
    *,
    config=None,
    out=None,
    params=None,
    cd_k: int = 10,
    persistent: bool = False,
    desc: str | None = None,
    augment: bool = False,
):
    """Fit a spin model to data with :func:`qml_phys.train.fit`; returns the ``TrainResult``.

    Normalised models are trained by maximum likelihood (:func:`nll_loss`), an RBM by
    CD-``cd_k`` (default CD-10) or, with ``persistent=True``, PCD-``cd_k`` with
    ``config.batch_size`` persistent chains (:func:`qml_phys.generative.rbm.cd_loss`; PCD
    needs small learning rates: with Adam at 1e-3 it oscillates on the 3x3 torus at T_c).
    ``spins``: ``(n, *module.shape)`` in {-1,+1} (validated). ``params``: start from these
    instead of a fresh initialisation
    (from ``config.seed``). A non-finite loss stops training with ``status="diverged"``,
    a ``RuntimeWarning``, and the parameters of the last good epoch (see
    :func:`qml_phys.train.fit`). ``augment``: see :func:`nll_loss` (normalised models).
    """
    from qml_phys.train import TrainConfig, fit

    config = TrainConfig() if config is None else config
    x = spins_from_data(spins, tuple(module.shape))
    k_init, k_chains = jax.random.split(jax.random.key(config.seed))
    if params is None:
        params = init_params(module, key=k_init)
    model_state = None
    if getattr(module, "normalised", False):
        loss_fn = nll_loss(module, augment=augment)
    else:
        loss_fn = rbm.cd_loss(module, k=cd_k, persistent=persistent)
        if persistent:
            model_state = rbm.init_chains(module, key=k_chains, n_chains=config.batch_size)
    return fit(
        loss_fn,
        params,
        {"x": x},
        config=config,
        model_state=model_state,
        out=out,
        desc=desc or f"training {type(module).__name__}",
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
