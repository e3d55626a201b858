r"""Logistic regression as the simplest phase classifier, and its neural-network neighbours.

**Softmax is a Boltzmann distribution.** A linear classifier assigns class ``k`` the logit
:math:`z_k = w_k \cdot x + b_k`; its probabilities

.. math:: p(k|x) = \frac{e^{z_k}}{\sum_j e^{z_j}} = \frac{e^{-E_k/T}}{Z}, \quad E_k = -T z_k,

are the Boltzmann weights of a system whose "states" are the classes with energies
:math:`E_k`, and :math:`\log Z` = ``logsumexp`` is the free energy :math:`-F/T` (Mehta et
al., arXiv:1803.08823, sec. VII.A). :func:`boltzmann` computes it; with degeneracies
:math:`g_k` it is :math:`p_k \propto g_k e^{-E_k/T}`.

**Phases of the 2D Ising model** (Mehta et al., sec. VII and notebook 6; Carrasquilla &
Melko, Nat. Phys. 13, 431 (2017)): logistic regression on raw configurations cannot separate
ordered from disordered states — the ordered phase has ``m ≈ ±1`` and a linear function of
the spins is odd under the global flip — so it does little better than chance, while a
one-hidden-layer network (or logistic regression on the flip-invariant features ``|m|``,
``e``) classifies well. A regression of the temperature from configurations uses the same
invariant features.

Networks are Flax modules trained with the shared trainer :func:`qml_phys.train.fit`;
:class:`MLP` carries the trainer's regularisation switches (dropout, batch norm).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError, ShapeError
from qml_phys.runtime.results import Result


def boltzmann(energies, T: float = 1.0, degeneracy=None) -> jax.Array:
    r"""``softmax(-E/T + log g)``: Boltzmann probabilities of levels ``energies`` ``(..., K)``.

    Shift-invariant in ``E`` (the zero of energy drops out of ``Z``); ``T -> 0`` picks the
    ground state, ``T -> inf`` the uniform (or degeneracy-weighted) distribution.
    """
    E = jnp.asarray(energies)
    if not T > 0:
        raise InvalidParameterError(f"T: expected a temperature > 0; got {T!r}")
    logits = -E / jnp.asarray(T, E.dtype)
    if degeneracy is not None:
        g = jnp.asarray(degeneracy, E.dtype)
        if g.shape != E.shape[-1:]:
            raise ShapeError(f"degeneracy: expected shape {E.shape[-1:]}; got {g.shape}")
        logits = logits + jnp.log(g)
    return jax.nn.softmax(logits, axis=-1)


class Logistic(nn.Module):
    """Multinomial logistic (softmax) regression: ``logits = W x + b`` on flattened inputs."""

    n_classes: int = 2
    """Number of classes (outputs)."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = jnp.reshape(x, (x.shape[0], -1)).astype(jnp.float32)
        return nn.Dense(self.n_classes)(x)


class MLP(nn.Module):
    """A fully connected network with the trainer's regularisation switches."""

    hidden: Sequence[int] = (32,)
    """Widths of the hidden layers."""
    n_out: int = 2
    """Outputs (classes, or 1 for a scalar regression)."""
    dropout: float = 0.0
    """Dropout rate after each hidden activation (training mode only)."""
    batch_norm: bool = False
    """Batch normalisation before each hidden activation."""
    scalar: bool = False
    """Return ``(n,)`` instead of ``(n, 1)`` when ``n_out == 1`` (regression targets)."""
    activation: str = "tanh"
    """tanh | relu"""
    param_dtype: jnp.dtype = jnp.float32
    """dtype of the weights (float64 for exact Hessian checks; feed inputs of the same)."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = jnp.reshape(x, (x.shape[0], -1))
        if not jnp.issubdtype(x.dtype, jnp.floating):  # int8 spins -> float32
            x = x.astype(jnp.float32)
        act = {"tanh": jnp.tanh, "relu": nn.relu}[self.activation]
        for width in self.hidden:
            x = nn.Dense(width, param_dtype=self.param_dtype)(x)
            if self.batch_norm:
                x = nn.BatchNorm(
                    use_running_average=not train, momentum=0.9, param_dtype=self.param_dtype
                )(x)
            x = act(x)
            if self.dropout > 0:
                x = nn.Dropout(self.dropout, deterministic=not train)(x)
        x = nn.Dense(self.n_out, param_dtype=self.param_dtype)(x)
        return x[:, 0] if self.scalar and self.n_out == 1 else x


# --------------------------------------------------------------------------- data
def phase_data(spins, label) -> dict[str, np.ndarray]:
    """``{"x": (n, L*L) float32 spins, "y": (n,) int32 labels}`` from Ising configurations."""
    spins = np.asarray(spins)
    label = np.asarray(label)
    if spins.ndim != 3 or spins.shape[1] != spins.shape[2]:
        raise ShapeError(f"spins: expected shape (n, L, L); got {spins.shape}")
    if label.shape != spins.shape[:1]:
        raise ShapeError(f"label: expected shape ({spins.shape[0]},); got {label.shape}")
    return {"x": spins.reshape(len(spins), -1).astype(np.float32), "y": label.astype(np.int32)}


def invariant_features(spins) -> np.ndarray:
    """Flip-invariant features of ``(n, L, L)`` configurations: ``(n, 4)`` float32
    ``[|m|, m², e, e²]`` with ``m`` the magnetisation and ``e`` the energy per site (J = 1,
    periodic)."""
    s = np.asarray(spins, dtype=np.float32)
    if s.ndim != 3:
        raise ShapeError(f"spins: expected shape (n, L, L); got {s.shape}")
    m = s.mean(axis=(1, 2))
    e = -(s * (np.roll(s, 1, 1) + np.roll(s, 1, 2))).mean(axis=(1, 2))
    return np.stack([np.abs(m), m * m, e, e * e], axis=1).astype(np.float32)


def split_data(data: dict, test_fraction: float, *, key: jax.Array) -> tuple[dict, dict]:
    """Random train/test split of a dict of arrays with a common first axis (``key`` draws
    the permutation; see :func:`qml_phys.learning.regression.split`)."""
    from qml_phys.learning.regression import split

    n = len(next(iter(data.values())))
    train, test = split(n, test_fraction, key=key)
    return {k: v[train] for k, v in data.items()}, {k: v[test] for k, v in data.items()}


# --------------------------------------------------------------------------- training
def train_classifier(
    module: nn.Module, train: dict, *, config, key, validation=None, checkpoint=None
):
    """Train a Flax classifier with cross-entropy via :func:`qml_phys.train.fit`.

    ``train``: ``{"x": (n, ...), "y": (n,) int}``; ``key`` draws the initialisation and the
    training; ``checkpoint``: an optional :class:`~qml_phys.runtime.checkpoint.Checkpoint`.
    Returns the :class:`~qml_phys.train.TrainResult`; :func:`probabilities` applies it.
    """
    from qml_phys.train import fit, flax_loss, init_flax

    k_init, k_fit = jax.random.split(key)
    params, stats = init_flax(module, jnp.asarray(train["x"][:2]), key=k_init)
    return fit(
        flax_loss(module),
        params,
        train,
        config=dataclasses.replace(config, label=type(module).__name__),
        key=k_fit,
        model_state=stats,
        validation=validation,
        callbacks=() if checkpoint is None else (checkpoint,),
    )


def probabilities(module: nn.Module, result, x) -> jax.Array:
    """Class probabilities ``(n, K)`` of inputs ``x`` ``(n, ...)`` under the trained
    ``result`` (a :class:`~qml_phys.train.TrainResult` of :func:`train_classifier`), in
    inference mode with the trained batch statistics."""
    variables = {"params": result.params}
    if result.model_state is not None:
        variables["batch_stats"] = result.model_state
    return jax.nn.softmax(module.apply(variables, jnp.asarray(x), train=False), axis=-1)


def accuracy(probabilities, labels) -> float:
    """Fraction of argmax predictions equal to ``labels``."""
    return float(np.mean(np.argmax(np.asarray(probabilities), -1) == np.asarray(labels)))


def cross_entropy_of(probabilities, labels) -> float:
    """Mean ``-log p(label)`` (nats)."""
    p = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(labels)), labels], 1e-300))))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comparison(Result):
    """Models trained on the same data and compared (:func:`compare_phase_classifiers`,
    :func:`regularisation_effects`, :func:`phase_regularisation_comparison`,
    :func:`compare_with_phase_networks`); ``history`` is empty (each model's training is
    summarised in its row)."""

    models: Mapping[str, Mapping[str, Any]]
    """``{name: {metric: value}}`` (accuracies, cross-entropies, ``status``, ...)."""

    def summary(self) -> dict:
        """The rows of every model."""
        return super().summary() | {"models": {k: dict(v) for k, v in self.models.items()}}


def _statuses(models: Mapping[str, Mapping[str, Any]]) -> str:
    """``diverged`` if any model diverged, else ``completed``."""
    diverged = any(m.get("status") == "diverged" for m in models.values())
    return "diverged" if diverged else "completed"


def compare_phase_classifiers(
    train: dict,
    test: dict,
    *,
    config,
    key,
    hidden: int = 32,
    features_train=None,
    features_test=None,
) -> Comparison:
    """Logistic regression vs a one-hidden-layer network on the same phase data.

    ``train``/``test``: :func:`phase_data` dicts. With ``features_*`` (e.g.
    :func:`invariant_features`) also fits logistic regression on those. Every model gets
    its own key split from ``key``. Returns per model the train and test accuracy, the test
    cross-entropy and the status.
    """
    t0 = time.perf_counter()
    out = {}
    models = {"logistic": (Logistic(2), train, test), "mlp": (MLP((hidden,), 2), train, test)}
    if features_train is not None:
        models["logistic_invariant"] = (
            Logistic(2),
            {"x": features_train, "y": train["y"]},
            {"x": features_test, "y": test["y"]},
        )
    keys = jax.random.split(key, len(models))
    for (name, (module, tr, te)), k in zip(models.items(), keys, strict=True):
        result = train_classifier(module, tr, config=config, key=k)
        p_tr, p_te = probabilities(module, result, tr["x"]), probabilities(module, result, te["x"])
        out[name] = {
            "train_accuracy": accuracy(p_tr, tr["y"]),
            "test_accuracy": accuracy(p_te, te["y"]),
            "test_cross_entropy": cross_entropy_of(p_te, te["y"]),
            "status": result.status,
        }
    return Comparison(
        config=config, wall_time_s=time.perf_counter() - t0, status=_statuses(out), models=out
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TemperatureRegression(Result):
    """Ridge regression of the temperature on invariant features
    (:func:`temperature_regression`); ``config`` is ``{"lam": ...}``."""

    weights: np.ndarray
    """``(5,)``: constant, ``|m|``, ``m²``, ``e``, ``e²``."""
    train_r2: float
    test_r2: float
    test_rmse: float
    """Root-mean-square error of the predicted temperatures (units of J)."""
    predicted: np.ndarray
    """``(n_test,)`` predicted temperatures."""

    reported = ("weights", "train_r2", "test_r2", "test_rmse")


def temperature_regression(
    spins_train, T_train, spins_test, T_test, *, lam: float = 1e-4
) -> TemperatureRegression:
    """Ridge regression of ``T`` on :func:`invariant_features` (plus a constant): a
    baseline for networks regressing the temperature."""
    from qml_phys.learning.regression import r2_score, ridge

    t0 = time.perf_counter()

    def design(s):
        f = invariant_features(s).astype(np.float64)
        return np.concatenate([np.ones((len(f), 1)), f], axis=1)

    Xtr, Xte = design(spins_train), design(spins_test)
    w = ridge(Xtr, np.asarray(T_train, np.float64), lam)
    pred = Xte @ w
    T_test = np.asarray(T_test, np.float64)
    return TemperatureRegression(
        config={"lam": lam},
        wall_time_s=time.perf_counter() - t0,
        weights=w,
        train_r2=r2_score(np.asarray(T_train, np.float64), Xtr @ w),
        test_r2=r2_score(T_test, pred),
        test_rmse=float(np.sqrt(np.mean((pred - T_test) ** 2))),
        predicted=pred,
    )


def regularisation_effects(
    train: dict,
    test: dict,
    *,
    switches: dict[str, dict],
    base_config,
    key,
    hidden=(64,),
) -> Comparison:
    """Train one :class:`MLP` per regularisation setting on the same data; compare.

    ``switches``: name -> ``{"dropout": ..., "batch_norm": ..., **TrainConfig overrides}``
    (e.g. ``{"weight_decay": 1e-3}``, ``{"patience": 5}``). Every setting uses ``key`` (the
    same initialisation and batches: common random numbers, on purpose, so that only the
    switch differs). Returns per setting: train and test cross-entropy and accuracy, the
    parameter norm, epochs run, the best epoch and the status.
    """
    t0 = time.perf_counter()
    out = {}
    for name, sw in switches.items():
        sw = dict(sw)
        module = MLP(
            tuple(hidden), 2, dropout=sw.pop("dropout", 0.0), batch_norm=sw.pop("batch_norm", False)
        )
        cfg = dataclasses.replace(base_config, **sw)
        result = train_classifier(module, train, config=cfg, key=key)
        p_tr = probabilities(module, result, train["x"])
        p_te = probabilities(module, result, test["x"])
        norm = (
            float(sum(jnp.sum(jnp.square(v)) for v in jax.tree_util.tree_leaves(result.params)))
            ** 0.5
        )
        out[name] = {
            "train_cross_entropy": cross_entropy_of(p_tr, train["y"]),
            "test_cross_entropy": cross_entropy_of(p_te, test["y"]),
            "train_accuracy": accuracy(p_tr, train["y"]),
            "test_accuracy": accuracy(p_te, test["y"]),
            "param_norm": norm,
            "epochs": result.epochs,
            "best_epoch": result.best_epoch,
            "status": result.status,
        }
    return Comparison(
        config=base_config,
        wall_time_s=time.perf_counter() - t0,
        status=_statuses(out),
        models=out,
    )


REGULARISERS = {
    "none": {},
    "weight_decay": {"weight_decay": 1.0},
    "dropout": {"dropout": 0.5},
    "batch_norm": {"batch_norm": True},
    "early_stopping": {"patience": 5, "restore_best": True},
}
"""The regularisation switches compared by :func:`phase_regularisation_comparison`."""


def phase_regularisation_comparison(
    spins, label, *, key, epochs: int = 100, switches=None, test_fraction: float = 0.5
) -> Comparison:
    """:func:`regularisation_effects` of :data:`REGULARISERS` on a phase classifier of
    ``(n, L, L)`` configurations (64 hidden units, Adam 3e-3, batch 32, 20% validation;
    the baseline keeps its last epoch so that over-fitting shows). ``key`` draws the
    train/test split and the training."""
    from qml_phys.train import TrainConfig

    k_split, k_train = jax.random.split(key)
    train, test = split_data(phase_data(spins, label), test_fraction, key=k_split)
    cfg = TrainConfig(
        epochs=epochs,
        batch_size=32,
        learning_rate=3e-3,
        validation_fraction=0.2,
        restore_best=False,
    )
    return regularisation_effects(
        train, test, switches=switches or REGULARISERS, base_config=cfg, key=k_train, hidden=(64,)
    )


def compare_with_phase_networks(data, config=None, *, key, models=("dense",)) -> Comparison:
    """Logistic regression against the phase-detection networks of
    :func:`qml_phys.phases.supervised.train_classifier` on the same split of ``data``
    (an :class:`~qml_phys.classical.datasets.IsingData`): every model is trained with
    ``config`` (a :class:`~qml_phys.phases.supervised.SupervisedConfig`, default settings
    if ``None``; its ``model`` is replaced) and the same ``key``, so every model gets the
    same training temperatures and configurations (common random numbers, on purpose).
    Returns per model the test accuracy (all held-out configurations, labels ``T < T_c``)
    and the status.
    """
    from qml_phys.phases.supervised import SupervisedConfig, predict_ordered, train_classifier

    t0 = time.perf_counter()
    config = SupervisedConfig() if config is None else config
    out = {}
    for name in ("logistic", *models):
        model = Logistic(2) if name == "logistic" else name
        options = {} if name == "logistic" else config.model_options
        cfg = dataclasses.replace(config, model=model, model_options=options)
        c = train_classifier(data, cfg, key=key)
        idx = c.test_index
        p = predict_ordered(c.params, c.model, data.spins[idx], model_state=c.model_state)
        y = (np.asarray(data.T)[idx] < c.Tc).astype(int)
        out[name] = {"test_accuracy": float(np.mean((p > 0.5) == y)), "status": c.status}
    return Comparison(
        config=config, wall_time_s=time.perf_counter() - t0, status=_statuses(out), models=out
    )
