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

The middle peak is the interior local maximum of the accuracy with the largest prominence;
``Tc_vertex`` is the vertex of the parabola through it and its neighbours. With
``n_bootstrap = B`` the stack holds ``(1 + B) K`` classifiers: replicate ``b`` weights every
training configuration by its bootstrap multiplicity and reads its accuracy on resampled
test configurations, and the spread of its vertices is ``Tc_error`` (the main classifiers
train exactly as without the replicates).
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
from qml_phys.stats.bootstrap import resample_counts
from qml_phys.train import TrainConfig, check_train_config

METHOD = "learning by confusion (van Nieuwenburg, Liu & Huber 2017): middle peak of W"
#: Most bootstrap replicates of :class:`ConfusionConfig` (each stacks K more classifiers).
MAX_BOOTSTRAP = 200


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
    n_bootstrap: int = 0
    """Bootstrap replicates for ``Tc_error`` (0: none, the error is ``None``; otherwise
    2 to :data:`MAX_BOOTSTRAP`): each retrains the K classifiers from fresh initialisations
    on the training configurations resampled with replacement and reads its accuracy on
    the test configurations resampled likewise. All are trained together with the main
    classifiers (one stacked fit), so the cost grows by a factor ``1 + n_bootstrap``."""

    def __post_init__(self):
        check_model(self.model)
        check_train_config(self.train)
        if self.n_bootstrap != 0 and not 2 <= self.n_bootstrap <= MAX_BOOTSTRAP:
            raise InvalidParameterError(
                f"n_bootstrap: expected 0 or an integer from 2 to {MAX_BOOTSTRAP}; got "
                f"{self.n_bootstrap!r}"
            )
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
    """Position of the middle peak (a proposal)."""
    resolution: float
    """Half the spacing of the proposals around the peak (the estimate's resolution)."""
    Tc_vertex: float
    """Vertex of the parabola through the peak and its two neighbours (within the
    neighbours; the peak itself at an end of the grid or where the three points do not
    bend down): an estimate between the grid points."""
    Tc_error: float | None
    """Standard deviation of ``Tc_vertex`` over the bootstrap replicates (training data,
    initialisations and test data resampled; ``config.n_bootstrap``), ``None`` without
    them: the error of one run at this size, around its finite-size peak position (not
    Onsager's T_c)."""
    peak_index: int
    n_test: int
    """Held-out configurations."""
    Tc_exact: float
    """The reference critical temperature (Onsager's)."""

    reported = (
        "Tc",
        "resolution",
        "Tc_vertex",
        "Tc_error",
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


def peak_vertex(proposals, accuracy, i: int) -> float:
    """Vertex of the parabola through the points ``i - 1, i, i + 1`` of the curve, clipped
    to ``[proposals[i - 1], proposals[i + 1]]``; ``proposals[i]`` at an end of the grid or
    where the three points do not bend down."""
    x = np.asarray(proposals, np.float64)
    y = np.asarray(accuracy, np.float64)
    if i <= 0 or i >= len(x) - 1:
        return float(x[i])
    # a parabola's slope is linear, and between two points it equals the secant's slope at
    # their midpoint: the vertex is where the line through the two secant slopes is zero
    m0, m1 = (x[i - 1] + x[i]) / 2, (x[i] + x[i + 1]) / 2
    s0 = (y[i] - y[i - 1]) / (x[i] - x[i - 1])
    s1 = (y[i + 1] - y[i]) / (x[i + 1] - x[i])
    if not s1 < s0:  # flat or bending up (equal accuracies give equal floats: exact)
        return float(x[i])
    return float(np.clip(m0 + s0 * (m1 - m0) / (s0 - s1), x[i - 1], x[i + 1]))


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
    B = config.n_bootstrap
    example = jnp.asarray(spins[:2])

    def init(keys):
        return jax.vmap(lambda k: init_flax(module, example, key=k)[0])(keys)

    params = init(jax.random.split(k_init, K))
    data = {"x": x, "y": y}
    if B:
        # replicates 1..B: K more classifiers each, from their own initialisations, every
        # training configuration weighted by its bootstrap multiplicity (a flipped copy
        # shares its original's); replicate 0 is the main fit, weights 1
        k_boot = jax.random.fold_in(k_init, 1)
        k_w, k_test, k_binit = jax.random.split(k_boot, 3)
        extra = init(jax.random.split(k_binit, B * K))
        params = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), params, extra)
        w = np.concatenate([np.ones((1, len(train))), resample_counts(k_w, len(train), B)])
        data["w"] = (np.concatenate([w, w], axis=1) if config.augment else w).T  # (n, 1 + B)

    def logits_all(p, xb, key, train):
        return jax.vmap(
            lambda pk: module.apply({"params": pk}, xb, train=train, rngs={"dropout": key})
        )(p)  # ((1 + B) K, b, 2)

    def loss_fn(p, batch, *, key, model_state, train):
        logits = logits_all(p, batch["x"], key, train)
        labels = jnp.tile(batch["y"].T, (1 + B, 1))  # ((1 + B) K, b)
        ce = jax.vmap(cross_entropy)(logits, labels)
        if B:  # mean over the batch of multiplicity x loss: unbiased for every replicate
            ce = (ce.reshape(1 + B, K, -1) * batch["w"].T[:, None, :]).reshape(ce.shape)
        hits = jnp.argmax(logits[:K], -1).astype(jnp.int32) == batch["y"].T.astype(jnp.int32)
        acc = jnp.mean(hits.astype(logits.dtype))
        return jnp.sum(jnp.mean(ce, axis=1)), ({"accuracy": acc}, model_state)

    res = fit(
        loss_fn,
        params,
        data,
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
    )  # ((1 + B) K, n_test)
    truth = (T[test][None, :] < props[:, None]).astype(np.int32)
    hits = (pred.reshape(1 + B, K, -1) == truth[None]).astype(np.float64)
    acc = np.mean(hits[0], axis=1)
    n_test = len(test)
    tc_error = None
    if B:
        v = resample_counts(k_test, n_test, B)  # (B, n_test) test multiplicities
        boot_acc = np.einsum("bkn,bn->bk", hits[1:], v) / n_test
        vertices = []
        for a in boot_acc:
            try:
                vertices.append(peak_vertex(props, a, middle_peak(a)))
            except InvalidParameterError:  # a replicate without a W: left out
                continue
        tc_error = float(np.std(vertices, ddof=1)) if len(vertices) >= 2 else None
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
        Tc_vertex=peak_vertex(props, acc, i),
        Tc_error=tc_error,
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
