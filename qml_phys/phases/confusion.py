r"""Learning by confusion (van Nieuwenburg, Liu & Huber, Nat. Phys. 13, 435 (2017),
arXiv:1610.02048).

For every proposed critical temperature :math:`T'` the configurations are relabelled
:math:`T < T'` / :math:`T \ge T'`, a classifier is trained on them, and its accuracy on held-out
configurations is recorded. At the edges of the grid every label is the same and the
accuracy is trivially 1; at the true :math:`T_c` the labels agree with the physics and the
accuracy has a second maximum: the curve :math:`P(T')` is W-shaped and :math:`T_c` is the
position of its middle peak.

Implementation: the :math:`K` classifiers (one per proposal) are trained *together* by one
call of :func:`qml_phys.train.fit` on parameters stacked along a leading axis of size
:math:`K`, with the loss :math:`\sum_k \mathcal L_k` (each term depends only on its own
parameters, and Adam is elementwise, so this equals :math:`K` independent runs with the
same batches) — one compiled ``lax.scan`` for all proposals.

The middle peak is the interior local maximum of the accuracy with the largest prominence.
The trivial baseline :math:`\max(f, 1 - f)` (:math:`f`: fraction of test configurations below
:math:`T'`) is reported beside it. Use a *uniform* temperature grid: on a grid that is dense
near :math:`T_c` the many nearly indistinguishable configurations there pull the accuracy
down around :math:`T_c` and the W turns into a V (measured: L = 16, 32 with the grid of
:func:`~qml_phys.phases.supervised.temperature_grid`).

:func:`confusion_curve` scans one lattice size, :func:`confusion_tc` every size of a
dataset; both take a :class:`ConfusionConfig` and a keyword-only PRNG ``key``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from qml_phys.errors import InvalidParameterError
from qml_phys.phases.supervised import (
    _check_samples,
    check_model,
    for_each_size,
    model_name,
    rng_from_key,
)
from qml_phys.physics.exact import onsager_tc
from qml_phys.runtime.results import Result, ran
from qml_phys.train import TrainConfig, check_train_config

METHOD = "learning by confusion (van Nieuwenburg, Liu & Huber 2017): middle peak of W"


def default_config(**overrides) -> TrainConfig:
    """Training settings for the confusion scheme, with ``overrides`` applied (no
    validation split: all K networks run the same number of epochs)."""
    base = dict(
        epochs=25, batch_size=64, learning_rate=3e-3, weight_decay=1e-4, validation_fraction=0.0
    )
    return TrainConfig(**(base | overrides))


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfusionConfig:
    """Settings of :func:`confusion_curve` and :func:`confusion_tc`."""

    proposals: tuple[float, ...] | None = None
    """Proposed critical temperatures (at least 3); default :func:`default_proposals` of
    each size's temperature grid."""
    model: str | Any = "dense"
    """``"dense"``, ``"cnn"`` or a Flax module with the ``train`` convention (two logits)."""
    model_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Keyword arguments of the named model."""
    train: TrainConfig = dataclasses.field(default_factory=default_config)
    """The training settings of every proposal's classifier (default :func:`default_config`)."""
    test_fraction: float = 0.3
    """Configurations held out at every temperature for the accuracy."""
    augment: bool = True
    """Add the spin-flipped copy of every training configuration."""

    def __post_init__(self):
        check_model(self.model)
        check_train_config(self.train)
        if self.proposals is not None:
            props = np.asarray(self.proposals, np.float64)
            if props.ndim != 1 or len(props) < 3 or not np.all(np.isfinite(props)):
                raise InvalidParameterError(
                    f"proposals: expected at least 3 finite temperatures; got {self.proposals!r}"
                )
            object.__setattr__(self, "proposals", tuple(float(p) for p in props))
        if not 0 < self.test_fraction < 1:
            raise InvalidParameterError(
                f"test_fraction: expected 0 < f < 1; got {self.test_fraction!r}"
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Confusion(Result):
    """The W curve of one lattice size (:func:`confusion_curve`). ``history`` is the
    trainer's per-epoch history of the K stacked classifiers."""

    proposals: np.ndarray
    """``(K,)`` proposed critical temperatures."""
    accuracy: np.ndarray
    """``(K,)`` test accuracy of the classifier trained with each proposal."""
    accuracy_error: np.ndarray
    """``(K,)`` binomial standard error ``sqrt(a (1 - a) / n_test)``."""
    baseline: np.ndarray
    """``(K,)`` accuracy of always answering the majority label."""
    Tc: float
    """Position of the middle peak."""
    resolution: float
    """Half the spacing of the proposals around the peak (the estimate's resolution)."""
    peak_index: int
    n_test: int
    """Held-out configurations."""
    Tc_exact: float
    """The reference critical temperature (Onsager's)."""

    reported = (
        "Tc",
        "resolution",
        "Tc_exact",
        "n_test",
        "proposals",
        "accuracy",
        "accuracy_error",
        "baseline",
    )

    def summary(self) -> dict:
        """``Tc``, ``resolution``, ``Tc_exact``, ``deviation_in_spacings`` (distance to the
        exact Tc in grid spacings), ``peak_accuracy``, ``n_test`` and the curve."""
        spacing = 2 * self.resolution
        return super().summary() | {
            "deviation_in_spacings": (
                abs(self.Tc - self.Tc_exact) / spacing if spacing > 0 else math.inf
            ),
            "peak_accuracy": float(self.accuracy[self.peak_index]),
        }


def default_proposals(temperatures) -> np.ndarray:
    """Midpoints between consecutive grid temperatures, and one beyond each end."""
    t = np.unique(np.asarray(temperatures, np.float64))
    if len(t) < 3:
        raise InvalidParameterError(
            f"learning by confusion needs at least 3 temperatures; got {len(t)}"
        )
    mid = (t[1:] + t[:-1]) / 2
    return np.concatenate([[t[0] - (t[1] - t[0]) / 2], mid, [t[-1] + (t[-1] - t[-2]) / 2]])


def middle_peak(accuracy) -> int:
    """Index of the middle peak of a W-shaped accuracy curve ``(K,)``: the interior local
    maximum of largest prominence (its height above the higher of the two minima that
    flank it). The rising edges end at the ends of the grid and are not interior maxima.
    Raises when the curve has no interior maximum (no W)."""
    from scipy.signal import find_peaks

    acc = np.asarray(accuracy, np.float64)
    peaks, props = find_peaks(acc, prominence=0.0)
    if not len(peaks):
        raise InvalidParameterError(
            "the accuracy curve has no interior maximum (no W shape); expected a grid that "
            "spans both phases with enough configurations per temperature"
        )
    return int(peaks[np.argmax(props["prominences"])])


def confusion_curve(
    data, config: ConfusionConfig = ConfusionConfig(), *, key: jax.Array
) -> Confusion:
    """Accuracy versus proposed critical temperature (the W curve) and its middle peak.

    Args:
        data: an :class:`~qml_phys.classical.datasets.IsingData` (``spins`` ``(n, L, L)``,
            ``T`` ``(n,)``).
        config: the settings (proposals, model, training).
        key: PRNG key of the test split, the initialisations and the training.
    """
    from qml_phys.phases.classifiers import make_classifier
    from qml_phys.train import cross_entropy, fit, init_flax

    t0 = time.perf_counter()
    spins, T = _check_samples(data.spins, data.T)
    temps = np.unique(T)
    props = (
        default_proposals(temps)
        if config.proposals is None
        else np.asarray(config.proposals, np.float64)
    )
    module = (
        make_classifier(config.model, **dict(config.model_options))
        if isinstance(config.model, str)
        else config.model
    )
    k_split, k_init, k_fit, k_pred = jax.random.split(key, 4)
    rng = rng_from_key(k_split)
    test = []
    for t in temps:
        idx = np.flatnonzero(T == t)
        n_test = max(1, int(round(config.test_fraction * len(idx))))
        if n_test >= len(idx):
            raise InvalidParameterError(
                f"T = {t:.5g} has {len(idx)} configuration(s); expected at least 2 per "
                "temperature (one to train, one to test)"
            )
        test.append(rng.permutation(idx)[:n_test])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(T)), test)
    x = spins[train]
    y = (T[train][:, None] < props[None, :]).astype(np.int32)  # (n, K)
    if config.augment:
        x, y = np.concatenate([x, -x]), np.concatenate([y, y])

    K = len(props)
    example = jnp.asarray(spins[:2])
    params = jax.vmap(lambda k: init_flax(module, example, key=k)[0])(jax.random.split(k_init, K))

    def logits_all(p, xb, key, train):
        return jax.vmap(
            lambda pk: module.apply({"params": pk}, xb, train=train, rngs={"dropout": key})
        )(p)  # (K, b, 2)

    def loss_fn(p, batch, *, key, model_state, train):
        logits = logits_all(p, batch["x"], key, train)
        ce = jax.vmap(cross_entropy)(logits, batch["y"].T)  # (K, b)
        hits = jnp.argmax(logits, -1).astype(jnp.int32) == batch["y"].T.astype(jnp.int32)
        acc = jnp.mean(hits.astype(logits.dtype))
        return jnp.sum(jnp.mean(ce, axis=1)), ({"accuracy": acc}, model_state)

    res = fit(
        loss_fn,
        params,
        {"x": x, "y": y},
        config=dataclasses.replace(config.train, label=f"confusion L={spins.shape[1]} K={K}"),
        key=k_fit,
    )
    # inference mode: the key only feeds dropout layers, which are off
    predict = jax.jit(lambda p, xb: jnp.argmax(logits_all(p, xb, k_pred, False), -1))
    pred = np.concatenate(
        [
            np.asarray(predict(res.params, jnp.asarray(spins[test][i : i + 2048])))
            for i in range(0, len(test), 2048)
        ],
        axis=1,
    )  # (K, n_test)
    truth = (T[test][None, :] < props[:, None]).astype(np.int32)
    acc = np.mean(pred == truth, axis=1)
    n_test = len(test)
    err = np.sqrt(np.maximum(acc * (1 - acc), 1.0 / n_test) / n_test)
    f = np.mean(truth, axis=1)
    i = middle_peak(acc)
    lo = props[i] - props[i - 1] if i > 0 else props[1] - props[0]
    hi = props[i + 1] - props[i] if i < K - 1 else props[-1] - props[-2]
    return Confusion(
        **ran(config, res, since=t0),
        proposals=props,
        accuracy=acc,
        accuracy_error=err,
        baseline=np.maximum(f, 1 - f),
        Tc=float(props[i]),
        resolution=float(max(lo, hi) / 2),
        peak_index=i,
        n_test=n_test,
        Tc_exact=onsager_tc(),
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConfusionResult(Result):
    """The W curve of every lattice size (:func:`confusion_tc`); ``history`` is empty
    (each size's is in ``per_size``)."""

    sizes: tuple[int, ...]
    per_size: Mapping[int, Confusion]
    Tc_exact: float

    reported = ("Tc_exact",)

    def summary(self) -> dict:
        """What ``qml-phys phases confusion --json`` prints: ``method``, ``model``,
        ``Tc_exact``, ``sizes`` and ``per_size`` (``{"L": Confusion.summary()}``)."""
        return super().summary() | {
            "method": METHOD,
            "model": model_name(self.config.model),
            "sizes": list(self.sizes),
            "per_size": {
                str(L): {k: v for k, v in c.summary().items() if k != "config"}
                for L, c in self.per_size.items()
            },
        }


def confusion_tc(
    datasets: Mapping[int, Any], config: ConfusionConfig = ConfusionConfig(), *, key: jax.Array
) -> ConfusionResult:
    """:func:`confusion_curve` for every size of ``datasets`` (``{L: IsingData}``), each
    with its own key split from ``key``."""
    t0 = time.perf_counter()
    fields = for_each_size(confusion_curve, datasets, config, key=key)
    return ConfusionResult(**fields, wall_time_s=time.perf_counter() - t0)


def plot_confusion(ax, result: ConfusionResult) -> None:
    """Draw the W curve of every size (dashed: the majority-label baseline) and the exact
    Tc on ``ax``. The caller owns and saves the figure."""
    from qml_phys.runtime.plots import EXACT

    for L, c in result.per_size.items():
        ax.errorbar(c.proposals, c.accuracy, c.accuracy_error, fmt="o-", ms=3, label=f"L = {L}")
        ax.plot(c.proposals, c.baseline, color="grey", lw=0.8, ls="--")
    ax.axvline(result.Tc_exact, **EXACT, label="Onsager $T_c$")
    ax.set(
        xlabel="proposed critical temperature T' / J",
        ylabel="test accuracy",
        title="learning by confusion (dashed: majority-label baseline)",
    )
    ax.legend()
